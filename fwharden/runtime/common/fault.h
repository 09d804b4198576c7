/* Facts about fault capture that C and assembly must agree on, defined once.
 *
 * Included by C (the capture code) and by assembly (the RISC-V trap entry, the Cortex-M
 * fault trampoline's inline asm), so everything here is a plain integer literal: no `u`
 * suffix, no casts, no C declarations outside the __ASSEMBLER__ guard.
 */
#ifndef FWHARDEN_FAULT_H
#define FWHARDEN_FAULT_H

/* Bytes of the reserved stack a fault handler moves to before it touches memory: an
 * overflow leaves SP inside (or below) a guard, so the handler must not push there. The
 * capture and its console output need under 200 bytes (the .su files of the runtime); 512
 * leaves room for a project's fault hook. Must be a multiple of 16 (RISC-V psABI). */
#define FWH_FAULT_STACK_SIZE 512

/* First word of the .noinit fault record (fwh_last_fault): the bytes "FHWF" in memory.
 * The host side (fwharden/harden/faults/parse.py, RECORD_MAGIC) must use the same. */
#define FWH_FAULT_MAGIC 0x46574846

/* `stack` field of the record when the fault is in no stack the stack map describes. */
#define FWH_STACK_NONE 0xFF

/* Turn a macro's value into a string, for inline assembly ("... + " FWH_STR(X)). */
#define FWH_STR_(x) #x
#define FWH_STR(x) FWH_STR_(x)

#ifndef __ASSEMBLER__
#include <stdint.h>

/* The fault stack itself (defined by the architecture's guard.c). */
extern uint32_t fwh_fault_stack[FWH_FAULT_STACK_SIZE / 4];
#endif

#endif
