/* fwharden reset entry for Cortex-M (ARMv6-M DDI 0419E, ARMv7-M DDI 0403E, ARMv8-M DDI 0553B).
 *
 * The core loads SP from word 0 of the vector table, which fwharden points at the top of
 * the interrupt stack, so MSP is the interrupt stack from the first instruction. The reset
 * entry enables the FPU (if the build uses one), calls SystemInit (the project's, or an empty
 * weak one), points VTOR at our table, initialises RAM
 * on MSP, paints the stacks and arms the guards (fwh_runtime_init), then moves thread
 * mode to PSP (the thread stack, CONTROL.SPSEL = 1; B1.4.4) and calls main() there.
 * Exceptions keep using MSP, so handlers never share the thread stack.
 * Thumb-1 only, so the same code assembles for ARMv6-M.
 */
#include <stdint.h>

void fwh_init_memory(void);
void fwh_thread_main(void);

/* CMSIS SystemInit (clocks, flash wait states, FPU, external memory): the project's, when it
 * defines one, else this empty weak one (a weak *reference* would make gcc test for null and
 * lld turn the call into a branch to the next instruction). The vendors' start-up files
 * (startup_stm32*.s, startup_MIMXRT*.S) call it first, before .data and .bss exist, so a
 * CubeMX SystemInit is written for that moment; fwharden keeps the order. VTOR is written
 * after it, so fwharden's table stands even where SystemInit sets VTOR itself. */
__attribute__((weak)) void SystemInit(void)
{
}

__attribute__((naked, noreturn, used)) void Reset_Handler(void)
{
    __asm__ volatile(
        ".syntax unified\n"
#if defined(FWH_HAS_FPU)
        /* CPACR.CP10/CP11 = full access (B3.2.20) before any FP instruction. */
        "ldr r0, =0xE000ED88\n"
        "ldr r1, [r0]\n"
        "ldr r2, =0x00F00000\n"
        "orrs r1, r2\n"
        "str r1, [r0]\n"
        "dsb\n"
        "isb\n"
#endif
        "bl SystemInit\n"
        /* VTOR (B3.2.5): the table may not be at address 0 (STM32 flash, i.MX RT). A table
         * at 0 needs no write, and the Cortex-M0 has no VTOR at all (DDI 0419E B3.2.2). */
        "ldr r1, =__fwh_vectors_start\n"
        "cmp r1, #0\n"
        "beq 1f\n"
        "ldr r0, =0xE000ED08\n"
        "str r1, [r0]\n"
        "1:\n"
        "bl fwh_init_memory\n"
        "bl fwh_runtime_init\n"
        "ldr r0, =__fwh_thread_stack_end\n"
        "msr psp, r0\n"
        "movs r0, #2\n"
        "msr control, r0\n"
        "isb\n"
        "bl fwh_thread_main\n"
        "b .\n");
}
