/* Reset-time hardening: paint every stack's watermark region, then arm the guards.
 *
 * A stack that is in use while painting (MSP at reset on ARM, the thread stack on RISC-V)
 * is painted only below the current SP, by a loop that makes no call: everything above
 * that SP is stack the program really used. fwh_paint_stacks runs again as the thread
 * starts, so on ARM the interrupt stack, which the reset code stood on, is painted in full
 * before any interrupt can use it.
 */
#include <stdint.h>

#include "runtime.h"

void fwh_paint_stacks(void)
{
    uint32_t count = fwh_stack_count();
    uint32_t pattern = fwh_watermark_pattern();
    for (uint32_t id = 0; id < count; ++id) {
        const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
        if (desc == 0) {
            continue;
        }
        uint32_t base = desc->watermark_base;
        uint32_t end = base + desc->watermark_size;
        uint32_t sp = fwh_sp();
        if (sp > base && sp <= end) {
            end = sp;
        }
        for (volatile uint32_t *word = (volatile uint32_t *)base; (uint32_t)word < end; ++word) {
            *word = pattern;
        }
    }
}

void fwh_runtime_init(void)
{
#if defined(FWH_IRQ_CYCLES)
    fwh_irq_cycles_init();  /* before any interrupt can be enabled; needs no stack map */
#endif
    if (fwh_stack_count() == 0u) {
        return;  /* no stack map: built without the post-link step */
    }
    fwh_paint_stacks();
    fwh_guards_init();
}
