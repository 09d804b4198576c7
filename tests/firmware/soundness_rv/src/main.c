/* Three trap entries of the project's own (traps.S) installed at run time through mtvec, the
 * value arriving as a function argument; each takes a machine software interrupt (CLINT
 * msip, 0x02000000; privileged spec 3.1.9 mie.MSIE = bit 3, mstatus.MIE = bit 3) and runs
 * on_trap -> deep_work, the deepest path. report_error reaches printf only when g_fail is
 * set, which the run never does. The run repaints the interrupt stack's watermark between
 * the two that use it, so it prints the high water of each on its own; plain_trap keeps sp,
 * so it runs on the thread stack, whose high water the run prints last. */
#include <stdint.h>

#include "fwharden.h"

#define MSIP (*(volatile uint32_t *)0x02000000u)

int printf(const char *format, ...);
void swap_trap(void);
void la_trap(void);
void plain_trap(void);
uint32_t fwh_watermark_pattern(void);   /* the runtime's (common/stackmap.c) */

volatile int g_fail;
volatile uint32_t g_count;
volatile uint32_t g_sink;

__attribute__((noinline)) void report_error(uint32_t cause)
{
    if (g_fail) {
        printf("trap %u\n", (unsigned)cause);
    }
}

__attribute__((noinline)) uint32_t deeper(uint32_t n)
{
    volatile uint32_t scratch[16];
    for (uint32_t i = 0; i < 16u; ++i) {
        scratch[i] = n + i;
    }
    return scratch[n % 16u];
}

__attribute__((noinline)) uint32_t deep_work(uint32_t n)
{
    volatile uint32_t scratch[24];
    for (uint32_t i = 0; i < 24u; ++i) {
        scratch[i] = n + i;
    }
    return deeper(n) + scratch[n % 24u];
}

/* Called by both trap entries with mcause. */
void on_trap(uint32_t mcause)
{
    MSIP = 0u;
    g_sink += deep_work(mcause & 0xFu);
    report_error(mcause);
    g_count++;
}

__attribute__((noinline)) void install_trap(void (*entry)(void))
{
    __asm__ volatile("csrw mtvec, %0" ::"r"(entry));
}

static void take_one(void)
{
    uint32_t before = g_count;
    __asm__ volatile("csrs mie, %0" ::"r"(1u << 3));
    __asm__ volatile("csrs mstatus, %0" ::"r"(1u << 3));
    MSIP = 1u;
    while (g_count == before) {
    }
    __asm__ volatile("csrc mstatus, %0" ::"r"(1u << 3));
}

/* Paint the interrupt stack's watermark again (no trap is running: thread code is on the
 * thread stack), so the next high water is the next trap entry's alone. */
static void repaint_isr_stack(void)
{
    const struct fwh_stack_desc *desc = fwh_stack_descriptor(FWH_STACK_ISR);
    volatile uint32_t *word = (volatile uint32_t *)desc->watermark_base;
    uint32_t pattern = fwh_watermark_pattern();
    for (uint32_t i = 0; i < desc->watermark_size / 4u; ++i) {
        word[i] = pattern;
    }
}

int main(void)
{
    install_trap(swap_trap);
    take_one();
    uint32_t swap = fwh_stack_high_water(FWH_STACK_ISR);
    repaint_isr_stack();
    install_trap(la_trap);
    take_one();
    uint32_t la = fwh_stack_high_water(FWH_STACK_ISR);
    install_trap(plain_trap);
    take_one();
    fwh_puts("high-water swap_trap=");
    fwh_put_dec(swap);
    fwh_puts(" la_trap=");
    fwh_put_dec(la);
    fwh_puts(" thread=");
    fwh_put_dec(fwh_stack_high_water(FWH_STACK_THREAD));
    fwh_puts("\n");
    return 0;
}
