/* fwharden runtime: the small API firmware may call.
 *
 * Start-up (data copy, bss zero, stacks, vector table) is done before main(); main()
 * runs on the thread stack, interrupts on the isolated interrupt stack.
 */
#ifndef FWHARDEN_H
#define FWHARDEN_H

#include <stdint.h>

/* Write a NUL-terminated string to the board console (semihosting on QEMU boards;
 * a no-op where the board profile names no console). */
void fwh_puts(const char *text);
/* Write "0x" and 8 hex digits. */
void fwh_put_hex(uint32_t value);
/* Write a decimal number. */
void fwh_put_dec(uint32_t value);
/* End the program with an exit status (semihosting SYS_EXIT_EXTENDED on QEMU boards;
 * elsewhere the core sleeps forever). */
void fwh_exit(int status) __attribute__((noreturn));
/* Called for an interrupt or exception nobody handles. */
void fwh_unexpected_interrupt(void) __attribute__((noreturn));

#endif
