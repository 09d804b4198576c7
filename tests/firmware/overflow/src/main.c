/* Fires one interrupt whose handler needs far more stack than the 1 KiB interrupt stack.
 * The array is written from its top down, so the first store below the stack lands in
 * the guard (a frame bigger than the guard written bottom-up could jump over it). */
#include <stdint.h>

#include "fwharden.h"

#define OVERFLOW_WORDS 512u /* 2 KiB */

volatile uint32_t overflow_sink;

static void overflow_body(void)
{
    volatile uint32_t big[OVERFLOW_WORDS];
    for (int32_t i = (int32_t)OVERFLOW_WORDS - 1; i >= 0; --i) {
        big[i] = (uint32_t)i;   /* the guard stops this store */
    }
    overflow_sink = big[0];
}

#if defined(FWH_ARCH_ARM)
/* A quiet line per board and its handler name in the generated vector table. Pended
 * through ISPR, which every NVIC has (ARMv6-M has no STIR; DDI 0419E B3.4). */
#if defined(FWH_BOARD_MICROBIT)
#define OVERFLOW_IRQ 20u
#define OVERFLOW_HANDLER SWI0_IRQHandler
#elif defined(FWH_BOARD_LM3S6965EVB)
#define OVERFLOW_IRQ 0u
#define OVERFLOW_HANDLER GPIOA_IRQHandler
#elif defined(FWH_BOARD_NETDUINOPLUS2) || defined(FWH_BOARD_STM32F407) || \
    defined(FWH_BOARD_STM32H743)
#define OVERFLOW_IRQ 0u
#define OVERFLOW_HANDLER WWDG_IRQHandler
#elif defined(FWH_BOARD_MPS2_AN505)
#define OVERFLOW_IRQ 32u
#define OVERFLOW_HANDLER UART0RX_IRQHandler
#else
#define OVERFLOW_IRQ 0u
#define OVERFLOW_HANDLER UART0RX_IRQHandler
#endif
#define NVIC_ISER ((volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR ((volatile uint32_t *)0xE000E200u)

__attribute__((always_inline)) static inline void trigger(void)
{
    NVIC_ISER[OVERFLOW_IRQ / 32u] = 1u << (OVERFLOW_IRQ % 32u);
    __asm__ volatile("cpsie i" ::: "memory");
    NVIC_ISPR[OVERFLOW_IRQ / 32u] = 1u << (OVERFLOW_IRQ % 32u);
    __asm__ volatile("dsb\n isb" ::: "memory");
}

void OVERFLOW_HANDLER(void)
{
    overflow_body();
}
#else
#define MSIP (*(volatile uint32_t *)0x02000000u)

static void trigger(void)
{
    __asm__ volatile("csrs mie, %0" ::"r"(1u << 3));
    __asm__ volatile("csrs mstatus, %0" ::"r"(1u << 3));
    MSIP = 1u;
}

void MachineSoftware_Handler(void)
{
    MSIP = 0u;
    overflow_body();
}
#endif

int main(void)
{
    fwh_puts("overflow: firing the interrupt\n");
    trigger();
    fwh_puts("overflow: the guard did not stop the handler\n");
    return 1;
}
