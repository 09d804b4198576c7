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

#if defined(OVERFLOW_FP_FAULT) && defined(FWH_HAS_FPU)
/* The other test mode (-DOVERFLOW_FP_FAULT): no overflow, but a UsageFault in a handler
 * that has used the FPU, so the core stacks the 104-byte extended frame (EXC_RETURN.FType
 * = 0; ARM DDI 0403E B1.5.7). The markers sit in this function's frame, right above the
 * fault frame: the runtime's stack words start there only if it skipped all 104 bytes. */
volatile float overflow_fp = 1.5f;

static void fp_fault_body(void)
{
    volatile uint32_t marker[4];
    marker[0] = 0xFA570001u;
    marker[1] = 0xFA570002u;
    marker[2] = 0xFA570003u;
    marker[3] = 0xFA570004u;
    overflow_fp = overflow_fp * 3.0f;
    __asm__ volatile("udf #0");     /* UsageFault: undefined instruction */
    overflow_sink = marker[0];
}
#define HANDLER_BODY fp_fault_body
#else
#define HANDLER_BODY overflow_body
#endif

#if defined(FWH_ARCH_ARM)
/* A quiet line per board and its handler name in the generated vector table. Pended
 * through ISPR, which every NVIC has (ARMv6-M has no STIR; DDI 0419E B3.4). */
#if defined(FWH_BOARD_MICROBIT)
#define OVERFLOW_IRQ 20u
#define OVERFLOW_HANDLER SWI0_IRQHandler
#elif defined(FWH_BOARD_LM3S6965EVB)
#define OVERFLOW_IRQ 0u
#define OVERFLOW_HANDLER GPIOA_IRQHandler
#elif defined(FWH_BOARD_NETDUINOPLUS2)
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
    HANDLER_BODY();
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
