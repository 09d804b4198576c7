/* fwharden reset and trap entry for RV32 (RISC-V privileged spec 1.12).
 *
 * _start runs at the boot address: it sets gp, puts the thread stack in sp and the top of
 * the interrupt stack in mscratch, installs the trap entry (direct mode; for ECLIC, CLIC
 * mode with mtvt pointing at fwharden's table of handler addresses) and calls main() via
 * fwh_thread_main. The trap entry swaps sp with mscratch, so every interrupt runs on the
 * isolated interrupt stack, saves the caller-saved registers (64 bytes) and dispatches in C.
 * An exception (mcause bit 31 clear) instead moves to the reserved fault stack first: a
 * stack overflow leaves the faulting sp inside a guard, which the swap put in mscratch.
 * NOTE: assumes traps do not nest (mstatus.MIE is cleared on entry and not set again).
 */
#include "../common/fault.h"

#define CSR_MTVT 0x307

    .section .text.fwh_start, "ax"
    .globl _start
    .type _start, @function
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    csrci mstatus, 8
    la sp, __fwh_thread_stack_end
    la t0, __fwh_isr_stack_end
    csrw mscratch, t0
#if defined(FWH_IRQ_ECLIC)
    la t0, fwh_interrupt_table
    csrw CSR_MTVT, t0
    la t0, fwh_trap_entry
    ori t0, t0, 3
    csrw mtvec, t0
#elif defined(FWH_IRQ_INTMATRIX)
    /* Espressif's core takes only vectored mode (ESP32-C3 TRM 1.6: mtvec.MODE = 1, base
     * 256-byte aligned): every slot jumps to the one trap entry, which dispatches by
     * mcause like direct mode does. */
    la t0, fwh_vectored_entries
    ori t0, t0, 1
    csrw mtvec, t0
#else
    la t0, fwh_trap_entry
    csrw mtvec, t0
#endif
    call fwh_init_memory
    call fwh_runtime_init
    call fwh_thread_main
1:  j 1b
    .size _start, . - _start

#if defined(FWH_IRQ_INTMATRIX)
    /* 32 four-byte slots: exceptions enter slot 0, CPU interrupt line n slot n. */
    .section .text.fwh_trap, "ax"
    .balign 256
    .globl fwh_vectored_entries
    .type fwh_vectored_entries, @function
fwh_vectored_entries:
    .option push
    .option norvc
    .rept 32
    j fwh_trap_entry
    .endr
    .option pop
    .size fwh_vectored_entries, . - fwh_vectored_entries
#endif

    .section .text.fwh_trap, "ax"
    .balign 64
    .globl fwh_trap_entry
    .type fwh_trap_entry, @function
fwh_trap_entry:
    csrrw sp, mscratch, sp
    /* sp is now a usable stack (the interrupt stack top, or the thread sp if the trap came
     * from inside a handler); mscratch holds the sp at the moment of the trap. */
    sw t0, -4(sp)
    csrr t0, mcause
    bgez t0, fwh_exception_entry
    lw t0, -4(sp)
    addi sp, sp, -64
    sw ra, 0(sp)
    sw t0, 4(sp)
    sw t1, 8(sp)
    sw t2, 12(sp)
    sw t3, 16(sp)
    sw t4, 20(sp)
    sw t5, 24(sp)
    sw t6, 28(sp)
    sw a0, 32(sp)
    sw a1, 36(sp)
    sw a2, 40(sp)
    sw a3, 44(sp)
    sw a4, 48(sp)
    sw a5, 52(sp)
    sw a6, 56(sp)
    sw a7, 60(sp)
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    call fwh_trap_dispatch
    lw ra, 0(sp)
    lw t0, 4(sp)
    lw t1, 8(sp)
    lw t2, 12(sp)
    lw t3, 16(sp)
    lw t4, 20(sp)
    lw t5, 24(sp)
    lw t6, 28(sp)
    lw a0, 32(sp)
    lw a1, 36(sp)
    lw a2, 40(sp)
    lw a3, 44(sp)
    lw a4, 48(sp)
    lw a5, 52(sp)
    lw a6, 56(sp)
    lw a7, 60(sp)
    addi sp, sp, 64
    csrrw sp, mscratch, sp
    mret
    .size fwh_trap_entry, . - fwh_trap_entry

    .globl fwh_exception_entry
    .type fwh_exception_entry, @function
fwh_exception_entry:
    lw t0, -4(sp)
    la sp, fwh_fault_stack + FWH_FAULT_STACK_SIZE
    csrr a0, mcause
    csrr a1, mepc
    csrr a2, mtval
    csrr a3, mscratch
    mv a4, ra
    call fwh_fault_capture
1:  j 1b
    .size fwh_exception_entry, . - fwh_exception_entry
