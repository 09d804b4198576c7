/* Demo interrupt sources on Cortex-M: two NVIC lines pended by software (STIR).
 * NVIC registers: ARM DDI 0403E B3.4 (ISER 0xE000E100, IPR 0xE000E400, STIR 0xE000EF00). */
#include "demo.h"

#if defined(FWH_ARCH_ARM)

#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_IPR ((volatile uint8_t *)0xE000E400u)
#define NVIC_STIR (*(volatile uint32_t *)0xE000EF00u)

/* IRQ lines 0 and 1 exist on every board of the catalog. */
#define LOW_IRQ 0u
#define HIGH_IRQ 1u

static void set_priority(uint32_t irq, uint32_t level)
{
    /* Priority lives in the top FWH_PRIO_BITS bits of the byte. */
    NVIC_IPR[irq] = (uint8_t)(level << (8 - FWH_PRIO_BITS));
}

void demo_irq_setup(void)
{
    set_priority(LOW_IRQ, 3u);
    set_priority(HIGH_IRQ, 1u);
    NVIC_ISER[0] = (1u << LOW_IRQ) | (1u << HIGH_IRQ);
    __asm__ volatile("cpsie i" ::: "memory");
}

void demo_trigger_low(void)
{
    NVIC_STIR = LOW_IRQ;
    __asm__ volatile("dsb\n isb" ::: "memory");
}

void demo_trigger_high(void)
{
    NVIC_STIR = HIGH_IRQ;
    __asm__ volatile("dsb\n isb" ::: "memory");
}

/* The handler names come from the board's generated vector table (IRQ 0 and 1). */
#if defined(FWH_BOARD_STM32H743) || defined(FWH_BOARD_STM32F407)
#define LOW_HANDLER WWDG_IRQHandler
#define HIGH_HANDLER IRQ1_Handler
#elif defined(FWH_BOARD_MPS2_AN386) || defined(FWH_BOARD_MPS2_AN500)
#define LOW_HANDLER UART0RX_IRQHandler
#define HIGH_HANDLER UART0TX_IRQHandler
#else
#define LOW_HANDLER IRQ0_Handler
#define HIGH_HANDLER IRQ1_Handler
#endif

void LOW_HANDLER(void)
{
    demo_low_handler();
}

void HIGH_HANDLER(void)
{
    demo_high_handler();
}

#endif
