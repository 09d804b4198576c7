/* Console and exit for the runtime: Arm/RISC-V semihosting on QEMU boards.
 *
 * Semihosting operations (Arm "Semihosting for AArch32 and AArch64", 2.0): SYS_WRITE0
 * (0x04) writes a string, SYS_EXIT_EXTENDED (0x20) with {ADP_Stopped_ApplicationExit,
 * status} carries a full exit status (plain SYS_EXIT only gives 0 or 1).
 * NOTE: a semihosting call without a debugger attached faults on real hardware, so the
 * build only defines FWH_CONSOLE_SEMIHOSTING for boards with a [qemu] table.
 */
#include <stdint.h>

#include "../fwharden.h"

#define SYS_WRITE0 0x04u
#define SYS_EXIT_EXTENDED 0x20u
#define ADP_STOPPED_APPLICATION_EXIT 0x20026u

#if defined(FWH_CONSOLE_SEMIHOSTING)
static uint32_t semihost(uint32_t op, const void *arg)
{
#if defined(FWH_ARCH_ARM)
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
#else
    /* RISC-V semihosting: the three-instruction sequence must stay uncompressed. */
    register uint32_t a0 __asm__("a0") = op;
    register const void *a1 __asm__("a1") = arg;
    __asm__ volatile(".option push\n"
                     ".option norvc\n"
                     "slli x0, x0, 0x1f\n"
                     "ebreak\n"
                     "srai x0, x0, 7\n"
                     ".option pop\n"
                     : "+r"(a0) : "r"(a1) : "memory");
    return a0;
#endif
}
#endif

void fwh_puts(const char *text)
{
#if defined(FWH_CONSOLE_SEMIHOSTING)
    semihost(SYS_WRITE0, text);
#else
    (void)text;
#endif
}

void fwh_put_hex(uint32_t value)
{
    char text[11] = {'0', 'x'};
    for (int i = 0; i < 8; ++i) {
        uint32_t nibble = (value >> (28 - 4 * i)) & 0xFu;
        text[2 + i] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
    }
    text[10] = '\0';
    fwh_puts(text);
}

void fwh_put_dec(uint32_t value)
{
    char text[11];
    int pos = 10;
    text[pos] = '\0';
    do {
        text[--pos] = (char)('0' + value % 10u);
        value /= 10u;
    } while (value != 0u && pos > 0);
    fwh_puts(&text[pos]);
}

void fwh_exit(int status)
{
#if defined(FWH_CONSOLE_SEMIHOSTING)
    const uint32_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uint32_t)status};
    semihost(SYS_EXIT_EXTENDED, block);
#else
    (void)status;
#endif
    for (;;) {
#if defined(FWH_ARCH_ARM)
        __asm__ volatile("wfi");
#else
        __asm__ volatile("wfi");
#endif
    }
}

/* Exit status of a run that hit an unhandled interrupt or exception. */
#define FWH_EXIT_UNEXPECTED 3

void fwh_unexpected_interrupt(void)
{
    fwh_puts("FWH: unexpected interrupt or exception\n");
    fwh_exit(FWH_EXIT_UNEXPECTED);
}
