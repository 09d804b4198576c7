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

/* C++ constructors and __attribute__((constructor)) functions: what a vendor start-up
 * file gets from newlib's __libc_init_array, run here from the linker script's
 * .preinit_array/.init_array bounds, so it works with libc = "none" too. Only with
 * FWH_CONSTRUCTORS defined (import-makefile sets it for a project with C++ sources): the
 * calls are through a table verify cannot follow, so the thread stack's bound becomes a
 * minimum ("stack-unproven"); a C project keeps its exact bound. */
typedef void (*fwh_constructor)(void);
extern const fwh_constructor __preinit_array_start[], __preinit_array_end[];
extern const fwh_constructor __init_array_start[], __init_array_end[];

static void fwh_run_constructors(void)
{
#if defined(FWH_CONSTRUCTORS)
    for (const fwh_constructor *ctor = __preinit_array_start; ctor < __preinit_array_end; ++ctor) {
        (*ctor)();
    }
    for (const fwh_constructor *ctor = __init_array_start; ctor < __init_array_end; ++ctor) {
        (*ctor)();
    }
#endif
}

/* Entered on the thread stack once the start-up code has switched to it: paint the stacks
 * again (on ARM the interrupt stack was in use until now), then run main. */
__attribute__((noreturn)) void fwh_thread_main(void)
{
    fwh_paint_stacks();
    fwh_run_constructors();
    fwh_exit(main());
}
