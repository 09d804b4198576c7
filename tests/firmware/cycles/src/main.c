/* Interrupt durations ([runtime] irq_cycles). Two handlers of known, very different
 * lengths run RUNS times each: LONG busy-loops LONG_SPIN times, SHORT SHORT_SPIN times.
 * main prints how often each ran, which slots they own, the runtime's cycle line and the
 * high-water marks; tests/e2e/test_irq_cycles.py reads them.
 *
 * Cortex-M (mps2, microbit): IRQ 8 (slot 24) is LONG at the lower priority and pends
 * IRQ 9 (slot 25, SHORT) from inside, so SHORT nests in LONG; main pends them through
 * NVIC_ISPR (ARMv7-M ARM B3.4.5, ARMv6-M B3.4.5), no peripheral needed.
 * RISC-V (sifive-e): the CLINT's msip (cause 3) is LONG, the machine timer (cause 7,
 * mtimecmp set to 0 to fire, then to the maximum) is SHORT. */
#include <stdint.h>

#include "fwharden.h"

#define RUNS 20u
#define LONG_SPIN 20000u
#define SHORT_SPIN 200u

static volatile uint32_t long_runs;
static volatile uint32_t short_runs;

static void spin(uint32_t count)
{
    for (volatile uint32_t i = 0; i < count; ++i) {
    }
}

#if defined(FWH_ARCH_ARM)
#define NVIC_ISER (*(volatile uint32_t *)0xE000E100u)
#define NVIC_ISPR (*(volatile uint32_t *)0xE000E200u)
#define NVIC_IPR ((volatile uint32_t *)0xE000E400u)   /* word access: ARMv6-M too */
#define LONG_SLOT 24u
#define SHORT_SLOT 25u
#if defined(FWH_BOARD_MPS2_AN505)
#define LONG_HANDLER IRQ8_Handler
#define SHORT_HANDLER IRQ9_Handler
#else
#define LONG_HANDLER TIMER0_IRQHandler
#define SHORT_HANDLER TIMER1_IRQHandler
#endif

static void start(void)
{
    NVIC_IPR[2] = (0x40u << 8) | 0x80u;   /* IRQ 8: 0x80 (lower), IRQ 9: 0x40 */
    NVIC_ISER = (1u << 8) | (1u << 9);
    __asm__ volatile("cpsie i" ::: "memory");
}

static void pend_long(void)
{
    NVIC_ISPR = 1u << 8;
    __asm__ volatile("dsb\n isb" ::: "memory");
}

static void pend_short(void)
{
    NVIC_ISPR = 1u << 9;
    __asm__ volatile("dsb\n isb" ::: "memory");   /* taken here: it preempts LONG */
}

static void ack_short(void) {}
static void ack_long(void) {}
#else
#define MSIP (*(volatile uint32_t *)0x02000000u)
#define MTIMECMP_LO (*(volatile uint32_t *)0x02004000u)
#define MTIMECMP_HI (*(volatile uint32_t *)0x02004004u)
#define LONG_SLOT 3u
#define SHORT_SLOT 7u
#define LONG_HANDLER MachineSoftware_Handler
#define SHORT_HANDLER MachineTimer_Handler

static void start(void)
{
    MTIMECMP_HI = 0xFFFFFFFFu;
    MTIMECMP_LO = 0xFFFFFFFFu;
    __asm__ volatile("csrs mie, %0" ::"r"((1u << 7) | (1u << 3)));
    __asm__ volatile("csrs mstatus, %0" ::"r"(1u << 3));
}

static void pend_long(void)
{
    MSIP = 1u;
}

static void pend_short(void)
{
    /* mtime >= 0 always: the compare matches at once (privileged spec 3.1.10). */
    MTIMECMP_LO = 0u;
    MTIMECMP_HI = 0u;
}

static void ack_long(void)
{
    MSIP = 0u;
}

static void ack_short(void)
{
    MTIMECMP_HI = 0xFFFFFFFFu;
    MTIMECMP_LO = 0xFFFFFFFFu;
}
#endif

void LONG_HANDLER(void)
{
    ack_long();
    spin(LONG_SPIN / 2u);
    pend_short();                 /* Cortex-M: SHORT runs now, inside LONG */
    spin(LONG_SPIN / 2u);
    long_runs = long_runs + 1u;
}

void SHORT_HANDLER(void)
{
    ack_short();
    spin(SHORT_SPIN);
    short_runs = short_runs + 1u;
}

int main(void)
{
    start();
    for (uint32_t i = 0; i < RUNS; ++i) {
        pend_long();
        while (long_runs <= i || short_runs <= i) {
        }
    }
    fwh_puts("cycles: long=");
    fwh_put_dec(long_runs);
    fwh_puts(" short=");
    fwh_put_dec(short_runs);
    fwh_puts(" long_slot=");
    fwh_put_dec(LONG_SLOT);
    fwh_puts(" short_slot=");
    fwh_put_dec(SHORT_SLOT);
    fwh_puts(" slots=");
    fwh_put_dec(fwh_irq_cycles_slot_count());
    fwh_puts("\n");
    fwh_irq_cycles_print();
    fwh_puts("high-water isr=");
    fwh_put_dec(fwh_stack_high_water(FWH_STACK_ISR));
    fwh_puts(" thread=");
    fwh_put_dec(fwh_stack_high_water(FWH_STACK_THREAD));
    fwh_puts("\n");
    return long_runs == RUNS && short_runs == RUNS ? 0 : 1;
}
