/* fwharden start-up, shared by all cores: RAM initialisation and the call of main().
 *
 * Runs before any C runtime exists: no library calls, and the loops must not be turned
 * into memcpy/memset calls (the build passes -fno-builtin and, for gcc,
 * -fno-tree-loop-distribute-patterns).
 */
#include <stdint.h>

#include "../fwharden.h"

extern uint32_t __fwh_data_start[], __fwh_data_end[], __fwh_data_load[];
extern uint32_t __fwh_bss_start[], __fwh_bss_end[];

int main(void);

void fwh_init_memory(void)
{
    const uint32_t *src = __fwh_data_load;
    for (uint32_t *dst = __fwh_data_start; dst < __fwh_data_end; ++dst, ++src) {
        *dst = *src;
    }
    for (uint32_t *dst = __fwh_bss_start; dst < __fwh_bss_end; ++dst) {
        *dst = 0;
    }
}

void fwh_paint_stacks(void);

/* Entered on the thread stack once the start-up code has switched to it: paint the stacks
 * again (on ARM the interrupt stack was in use until now), then run main. */
__attribute__((noreturn)) void fwh_thread_main(void)
{
    fwh_paint_stacks();
    fwh_exit(main());
}
