/* Interrupt demo: fires a low-priority interrupt DEMO_ROUNDS times; each one pends a
 * high-priority interrupt that preempts it (nesting where the controller allows it).
 * On a QEMU board the result and the high-water marks of both stacks are printed over
 * semihosting, and the result becomes the exit status. */
#include "demo.h"

#include "fwharden.h"

#ifndef DEMO_ROUNDS
#define DEMO_ROUNDS 3
#endif

volatile uint32_t demo_low_count;
volatile uint32_t demo_high_count;
volatile uint32_t demo_nested_count;
static volatile uint32_t in_low;

/* Kept out of line so the handler has a real call chain. */
__attribute__((noinline)) static uint32_t checksum(const volatile uint32_t *words, uint32_t n)
{
    uint32_t sum = 0x12345678u;
    for (uint32_t i = 0; i < n; ++i) {
        sum = (sum << 5) ^ (sum >> 27) ^ words[i];
    }
    return sum;
}

void demo_low_handler(void)
{
    volatile uint32_t scratch[8];
    in_low = 1u;
    for (uint32_t i = 0; i < 8u; ++i) {
        scratch[i] = demo_low_count + i;
    }
    demo_trigger_high();
    (void)checksum(scratch, 8u);
    in_low = 0u;
    demo_low_count++;
}

void demo_high_handler(void)
{
    if (in_low) {
        demo_nested_count++;
    }
    demo_high_count++;
}

int main(void)
{
    demo_irq_setup();
    for (uint32_t round = 0; round < DEMO_ROUNDS; ++round) {
        demo_trigger_low();
        while (demo_low_count <= round) {
        }
    }
    fwh_puts("irq-demo on " FWH_BOARD_NAME ": low=");
    fwh_put_dec(demo_low_count);
    fwh_puts(" high=");
    fwh_put_dec(demo_high_count);
    fwh_puts(" nested=");
    fwh_put_dec(demo_nested_count);
    fwh_puts("\n");
    /* Measured from the painted watermark regions; `fwharden verify`'s static bounds must
     * never be smaller (the tests compare them). */
    fwh_puts("high-water isr=");
    fwh_put_dec(fwh_stack_high_water(FWH_STACK_ISR));
    fwh_puts(" thread=");
    fwh_put_dec(fwh_stack_high_water(FWH_STACK_THREAD));
    fwh_puts("\n");
    return (demo_low_count == DEMO_ROUNDS && demo_high_count == DEMO_ROUNDS) ? 0 : 1;
}
