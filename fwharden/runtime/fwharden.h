/* fwharden runtime: the small API firmware may call.
 *
 * Start-up (data copy, bss zero, stack painting, guard set-up, vector table) is done
 * before main(); main() runs on the thread stack, interrupts on the isolated interrupt
 * stack. Every size and address comes from the stack map that fwharden writes into the
 * .fwh_stackmap section after the link; nothing here is compiled in twice.
 */
#ifndef FWHARDEN_H
#define FWHARDEN_H

#include <stdint.h>

/* Stack ids in the stack map. */
#define FWH_STACK_ISR 0u
#define FWH_STACK_THREAD 1u

/* Exit status of a run stopped by a captured fault. */
#define FWH_EXIT_FAULT 70

/* One stack as the stack map describes it (48 bytes, little endian). */
struct fwh_stack_desc {
    uint32_t id;
    char name[8];
    uint32_t base;          /* lowest address of the stack */
    uint32_t size;
    uint32_t guard_base;    /* no-access guard directly below `base` */
    uint32_t guard_size;
    uint32_t watermark_base;
    uint32_t watermark_size;
    uint32_t worst_case;    /* static bound from `fwharden verify`; 0xFFFFFFFF = unbounded */
    uint32_t mirror;        /* mirror snapshot slot: a word count, then the saved words */
    uint32_t mirror_size;
};

/* The stack map's descriptor for `id`, or 0 when the map was not filled in. */
const struct fwh_stack_desc *fwh_stack_descriptor(uint32_t id);

/* Deepest use so far of stack `id`, in bytes, from its painted watermark region;
 * 0xFFFFFFFF if the stack map is missing. */
uint32_t fwh_stack_high_water(uint32_t id);

/* The caller's stack pointer. */
static inline uint32_t fwh_sp(void)
{
    uint32_t sp;
#if defined(FWH_ARCH_ARM)
    __asm__ volatile("mov %0, sp" : "=r"(sp));
#else
    __asm__ volatile("mv %0, sp" : "=r"(sp));
#endif
    return sp;
}

/* Copy the top words of every stack's used part into its mirror slot: for the stack the
 * caller runs on, the words above the caller's SP (the frames of the caller and of
 * everything that called it), at most as many as the slot holds. */
void fwh_mirror_snapshot_from(uint32_t sp);
#define fwh_mirror_snapshot() fwh_mirror_snapshot_from(fwh_sp())
/* Bit n set: stack n's top words differ from its last snapshot (0: all match). */
uint32_t fwh_mirror_check(void);

/* Console: semihosting on QEMU boards; a no-op where the board names no console. */
void fwh_puts(const char *text);
void fwh_put_hex(uint32_t value);
void fwh_put_dec(uint32_t value);
/* End the program with an exit status (semihosting SYS_EXIT_EXTENDED on QEMU boards;
 * elsewhere the core sleeps forever). */
void fwh_exit(int status) __attribute__((noreturn));
/* Called for an interrupt or exception nobody handles. */
void fwh_unexpected_interrupt(void) __attribute__((noreturn));

/* Interrupt durations (`[runtime] irq_cycles = true`; runtime/common/cycles.c). Slot n
 * is vector table entry n (ARM: exception number, IRQ k = 16 + k; RISC-V: the cause) and
 * holds the most cycles one run of its handler took, minus the cycles of timed handlers
 * that preempted it; 0: never ran, or no cycle counter (fwh_irq_cycles_counter). */
#define FWH_CYCLES_NONE 0u      /* no counter: ARMv6-M, QEMU's Cortex-M, or built without */
#define FWH_CYCLES_DWT 1u       /* Cortex-M DWT_CYCCNT */
#define FWH_CYCLES_MCYCLE 2u    /* RISC-V mcycle */
extern uint32_t fwh_irq_cycles_counter;
uint32_t fwh_irq_cycles(uint32_t slot);
uint32_t fwh_irq_cycles_slot_count(void);
/* One line, `irq-cycles counter=NAME slot=max ...` (only slots that ran). */
void fwh_irq_cycles_print(void);
/* What the wrappers call around a handler (generated code and the RISC-V dispatch). */
struct fwh_irq_cycles_run {
    uint32_t start;
    uint32_t outer_not_mine;
};
void fwh_irq_cycles_begin(struct fwh_irq_cycles_run *run);
void fwh_irq_cycles_end(uint32_t slot, const struct fwh_irq_cycles_run *run);

/* Interrupt-to-thread hand-off: an atomic flag and an SPSC ring (fwh_handoff.h). */
#include "fwh_handoff.h"

#endif
