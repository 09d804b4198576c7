/* Demo interrupt sources on Cortex-M: two NVIC lines pended by software (ISPR).
 * NVIC registers: ARM DDI 0403E B3.4 (ISER 0xE000E100, ISPR 0xE000E200, IPR 0xE000E400).
 * Written as words only: ARMv6-M (Cortex-M0) has no STIR and word-only IPR (DDI 0419E
 * B3.4), and words work on every core. */
#include "demo.h"

#if defined(FWH_ARCH_ARM)

#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR ((volatile uint32_t *)0xE000E200u)
#define NVIC_IPR ((volatile uint32_t *)0xE000E400u)

/* Two quiet lines per board (nothing in QEMU raises them) and their handler names from
 * the board's generated vector table. */
#if defined(FWH_BOARD_STM32F407) || defined(FWH_BOARD_NETDUINOPLUS2)
#define LOW_IRQ 0u
#define HIGH_IRQ 1u
#define LOW_HANDLER WWDG_IRQHandler
#define HIGH_HANDLER PVD_IRQHandler
#elif defined(FWH_BOARD_STM32H743)
#define LOW_IRQ 0u
#define HIGH_IRQ 1u
#define LOW_HANDLER WWDG_IRQHandler
#define HIGH_HANDLER PVD_AVD_IRQHandler
#elif defined(FWH_BOARD_IMXRT1064)
#define LOW_IRQ 0u
#define HIGH_IRQ 1u
#define LOW_HANDLER DMA0_DMA16_IRQHandler
#define HIGH_HANDLER DMA1_DMA17_IRQHandler
#elif defined(FWH_BOARD_MPS2_AN386) || defined(FWH_BOARD_MPS2_AN500)
#define LOW_IRQ 0u
#define HIGH_IRQ 1u
#define LOW_HANDLER UART0RX_IRQHandler
#define HIGH_HANDLER UART0TX_IRQHandler
#elif defined(FWH_BOARD_MPS2_AN505)
#define LOW_IRQ 32u
#define HIGH_IRQ 33u
#define LOW_HANDLER UART0RX_IRQHandler
#define HIGH_HANDLER UART0TX_IRQHandler
#elif defined(FWH_BOARD_MICROBIT)
#define LOW_IRQ 20u
#define HIGH_IRQ 21u
#define LOW_HANDLER SWI0_IRQHandler
#define HIGH_HANDLER SWI1_IRQHandler
#elif defined(FWH_BOARD_RP2040)
#define LOW_IRQ 24u
#define HIGH_IRQ 25u
#define LOW_HANDLER I2C1_IRQ_IRQHandler
#define HIGH_HANDLER RTC_IRQ_IRQHandler
#elif defined(FWH_BOARD_LM3S6965EVB)
#define LOW_IRQ 0u
#define HIGH_IRQ 1u
#define LOW_HANDLER GPIOA_IRQHandler
#define HIGH_HANDLER GPIOB_IRQHandler
#else
#define LOW_IRQ 0u
#define HIGH_IRQ 1u
#define LOW_HANDLER IRQ0_Handler
#define HIGH_HANDLER IRQ1_Handler
#endif

static void set_priority(uint32_t irq, uint32_t level)
{
    /* Priority lives in the top FWH_PRIO_BITS bits of the line's byte. */
    uint32_t shift = 8u * (irq % 4u);
    uint32_t word = NVIC_IPR[irq / 4u] & ~(0xFFu << shift);
    NVIC_IPR[irq / 4u] = word | ((level << (8 - FWH_PRIO_BITS)) << shift);
}

static void pend(uint32_t irq)
{
    NVIC_ISPR[irq / 32u] = 1u << (irq % 32u);
    __asm__ volatile("dsb\n isb" ::: "memory");
}

void demo_irq_setup(void)
{
    set_priority(LOW_IRQ, 3u);
    set_priority(HIGH_IRQ, 1u);
    NVIC_ISER[LOW_IRQ / 32u] = 1u << (LOW_IRQ % 32u);
    NVIC_ISER[HIGH_IRQ / 32u] = 1u << (HIGH_IRQ % 32u);
    __asm__ volatile("cpsie i" ::: "memory");
}

void demo_trigger_low(void)
{
    pend(LOW_IRQ);
}

void demo_trigger_high(void)
{
    pend(HIGH_IRQ);
}

void LOW_HANDLER(void)
{
    demo_low_handler();
}

void HIGH_HANDLER(void)
{
    demo_high_handler();
}

#endif
