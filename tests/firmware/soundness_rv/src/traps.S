/* Three trap entries of the project's own (RISC-V privileged spec 1.12: mtvec direct mode,
 * so the base is 4-byte aligned; mscratch 3.1.16). Each saves the caller-saved registers
 * and calls on_trap(mcause) in C: swap_trap and la_trap on the interrupt stack, plain_trap
 * on whatever stack it interrupts (the hardware switches none; 3.1.7). */
    .section .text.swap_trap, "ax"
    .balign 64
    .globl swap_trap
    .type swap_trap, @function
swap_trap:
    csrrw sp, mscratch, sp          /* sp = the interrupt stack's top; mscratch = old sp */
    sw t0, -4(sp)                   /* parked below sp before the frame is made */
    addi sp, sp, -64
    sw ra, 0(sp)
    sw t1, 8(sp)
    sw t2, 12(sp)
    sw a0, 16(sp)
    sw a1, 20(sp)
    sw a2, 24(sp)
    sw a3, 28(sp)
    sw a4, 32(sp)
    sw a5, 36(sp)
    sw a6, 40(sp)
    sw a7, 44(sp)
    sw t3, 48(sp)
    sw t4, 52(sp)
    sw t5, 56(sp)
    sw t6, 60(sp)
    lw t0, 60(sp)
    lw t0, 64-4(sp)                 /* the parked t0 back (it is inside the frame now) */
    sw t0, 4(sp)
    csrr a0, mcause
    call on_trap
    lw ra, 0(sp)
    lw t0, 4(sp)
    lw t1, 8(sp)
    lw t2, 12(sp)
    lw a0, 16(sp)
    lw a1, 20(sp)
    lw a2, 24(sp)
    lw a3, 28(sp)
    lw a4, 32(sp)
    lw a5, 36(sp)
    lw a6, 40(sp)
    lw a7, 44(sp)
    lw t3, 48(sp)
    lw t4, 52(sp)
    lw t5, 56(sp)
    lw t6, 60(sp)
    addi sp, sp, 64
    csrrw sp, mscratch, sp          /* back to the interrupted sp; mscratch = the top again */
    mret
    .size swap_trap, . - swap_trap

    .section .text.la_trap, "ax"
    .balign 64
    .globl la_trap
    .type la_trap, @function
la_trap:
    csrw mscratch, sp               /* keep the interrupted sp */
    la sp, __isr_stack_top
    addi sp, sp, -64
    sw ra, 0(sp)
    sw t0, 4(sp)
    sw t1, 8(sp)
    sw t2, 12(sp)
    sw a0, 16(sp)
    sw a1, 20(sp)
    sw a2, 24(sp)
    sw a3, 28(sp)
    sw a4, 32(sp)
    sw a5, 36(sp)
    sw a6, 40(sp)
    sw a7, 44(sp)
    sw t3, 48(sp)
    sw t4, 52(sp)
    sw t5, 56(sp)
    sw t6, 60(sp)
    csrr a0, mcause
    call on_trap
    lw ra, 0(sp)
    lw t0, 4(sp)
    lw t1, 8(sp)
    lw t2, 12(sp)
    lw a0, 16(sp)
    lw a1, 20(sp)
    lw a2, 24(sp)
    lw a3, 28(sp)
    lw a4, 32(sp)
    lw a5, 36(sp)
    lw a6, 40(sp)
    lw a7, 44(sp)
    lw t3, 48(sp)
    lw t4, 52(sp)
    lw t5, 56(sp)
    lw t6, 60(sp)
    addi sp, sp, 64
    csrr sp, mscratch               /* the interrupted sp */
    mret
    .size la_trap, . - la_trap

    .section .text.plain_trap, "ax"
    .balign 64
    .globl plain_trap
    .type plain_trap, @function
plain_trap:
    addi sp, sp, -64                /* on the interrupted stack: here the thread stack */
    sw ra, 0(sp)
    sw t0, 4(sp)
    sw t1, 8(sp)
    sw t2, 12(sp)
    sw a0, 16(sp)
    sw a1, 20(sp)
    sw a2, 24(sp)
    sw a3, 28(sp)
    sw a4, 32(sp)
    sw a5, 36(sp)
    sw a6, 40(sp)
    sw a7, 44(sp)
    sw t3, 48(sp)
    sw t4, 52(sp)
    sw t5, 56(sp)
    sw t6, 60(sp)
    csrr a0, mcause
    call on_trap
    lw ra, 0(sp)
    lw t0, 4(sp)
    lw t1, 8(sp)
    lw t2, 12(sp)
    lw a0, 16(sp)
    lw a1, 20(sp)
    lw a2, 24(sp)
    lw a3, 28(sp)
    lw a4, 32(sp)
    lw a5, 36(sp)
    lw a6, 40(sp)
    lw a7, 44(sp)
    lw t3, 48(sp)
    lw t4, 52(sp)
    lw t5, 56(sp)
    lw t6, 60(sp)
    addi sp, sp, 64
    mret
    .size plain_trap, . - plain_trap
