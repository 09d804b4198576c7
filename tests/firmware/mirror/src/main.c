/* Takes a mirror snapshot, checks it (nothing changed), corrupts one word of the thread
 * stack's mirror slot through the address the stack map gives, and checks again. */
#include <stdint.h>

#include "fwharden.h"

int main(void)
{
    fwh_mirror_snapshot();
    uint32_t before = fwh_mirror_check();
    const struct fwh_stack_desc *thread = fwh_stack_descriptor(FWH_STACK_THREAD);
    if (thread == 0) {
        fwh_puts("mirror: no stack map\n");
        return 2;
    }
    volatile uint32_t *slot = (volatile uint32_t *)thread->mirror;
    slot[1] ^= 0xA5A5A5A5u;   /* a stray write into the saved words */
    uint32_t after = fwh_mirror_check();
    fwh_puts("mirror: before=");
    fwh_put_hex(before);
    fwh_puts(" after=");
    fwh_put_hex(after);
    fwh_puts(" slot=");
    fwh_put_hex(thread->mirror);
    fwh_puts(" words=");
    fwh_put_dec(slot[0]);
    fwh_puts("\n");
    return (before == 0u && after == (1u << FWH_STACK_THREAD)) ? 0 : 1;
}
