/* Cortex-M guards and fault capture (ARMv6-M, ARMv7-M, ARMv8-M Mainline).
 *
 * Guards, by what the core has (see scs.h):
 *   PMSAv7 (ARMv7-M): each stack's guard is one MPU region with no access (AP = 0b000, XN),
 *     so the first store below a stack raises MemManage (DDI 0403E B3.5).
 *   PMSAv6 (the ARMv6-M MPU option, e.g. the RP2040's Cortex-M0+): the same RBAR/RASR
 *     layout and "no access" permission, regions of at least 256 bytes (DDI 0419E B3.5.9,
 *     the profile loader enforces it); a violation is a HardFault (ARMv6-M has no
 *     MemManage), attributed from SP as there are no fault address registers.
 *   PMSAv8 (ARMv8-M Mainline): MSPLIM/PSPLIM hold the lowest address of the interrupt and
 *     thread stack, so any instruction or exception entry that would move SP below it
 *     raises UsageFault STKOF with SP unchanged (DDI 0553B B3.21, as cortex-m-rt's
 *     set-msplim and Zephyr's CONFIG_BUILTIN_STACK_GUARD use them); each guard is also an
 *     MPU region, read-only + XN (PMSAv8 has no "no access" permission: AP only chooses
 *     read-write/read-only), which catches a store through a pointer that skips SP.
 *   No MPU (ARMv6-M parts like the nRF51, or protection.kind = "none"): nothing is armed;
 *     the board profile places the stacks so an overflow leaves the RAM (see its notes).
 * The fault handlers first move SP onto a reserved fault stack: an overflow leaves SP
 * inside or below a guard, and a handler that pushed there would fault again (escalating
 * to HardFault and overwriting MMFAR). The capture then turns the MPU off (so it may read
 * any memory), records the fault in .noinit, prints one FWH-FAULT line and ends the run.
 */
#include <stdint.h>

#include "../common/fault.h"
#include "../common/runtime.h"
#include "scs.h"

#ifndef FWH_IRQ_COUNT
#error "FWH_IRQ_COUNT is not defined: the build passes -DFWH_IRQ_COUNT=<interrupts.irq_count> from the board profile"
#endif

#if defined(FWH_PROTECTION_PMSAV6) || defined(FWH_PROTECTION_PMSAV7) || \
    defined(FWH_PROTECTION_PMSAV8)
#define FWH_HAS_MPU 1
#endif

uint32_t fwh_fault_stack[FWH_FAULT_STACK_SIZE / 4] __attribute__((aligned(8)));

struct fwh_fault_record {
    uint32_t magic;
    uint32_t ipsr, cfsr, hfsr, mmfar, bfar, exc_return, msp, psp;
    uint32_t r0, r1, r2, r3, r12, lr, pc, xpsr;
    uint32_t stack;      /* id of the stack the fault belongs to, FWH_STACK_NONE if none */
    uint32_t count;      /* faults recorded since power-on */
};

/* Kept across a reset (not zeroed by the start-up code) for a debugger or the next boot. */
__attribute__((section(".noinit"))) struct fwh_fault_record fwh_last_fault;

#if defined(FWH_PROTECTION_PMSAV6) || defined(FWH_PROTECTION_PMSAV7)
static uint32_t log2_of(uint32_t value)
{
    uint32_t bits = 0;
    while ((1u << bits) < value) {
        ++bits;
    }
    return bits;
}
#endif

#if defined(FWH_HAS_MPU)
/* One guard region; `region` counts from 0 (a project's own regions should use higher). */
static void guard_region(uint32_t region, const struct fwh_stack_desc *desc)
{
    MPU_RNR = region;
#if defined(FWH_PROTECTION_PMSAV8)
    /* AP = 0b10: read-only, privileged; SH = 0; AttrIndx 0 (MAIR0 attribute 0). */
    MPU_RBAR = (desc->guard_base & MPU_RBAR_BASE_Msk) | (2u << MPU_RBAR_AP_Pos) |
               MPU_RBAR_XN_Msk;
    MPU_RLAR = ((desc->guard_base + desc->guard_size - 1u) & MPU_RLAR_LIMIT_Msk) |
               MPU_RLAR_EN_Msk;
#else
    MPU_RBAR = desc->guard_base;
    MPU_RASR = MPU_RASR_XN_Msk | ((log2_of(desc->guard_size) - 1u) << MPU_RASR_SIZE_Pos) |
               MPU_RASR_ENABLE_Msk;
#endif
}
#endif

void fwh_guards_init(void)
{
#if defined(FWH_HAS_MPU)
    uint32_t regions = (MPU_TYPE >> MPU_TYPE_DREGION_Pos) & 0xFFu;
    uint32_t region = 0;
    for (uint32_t id = 0; id < fwh_stack_count() && region < regions; ++id) {
        const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
        if (desc == 0 || desc->guard_size < 32u) {
            continue;
        }
        guard_region(region++, desc);
    }
#endif
#if defined(FWH_ARMV8M_MAIN)
    /* Stack limits: the lowest address each stack pointer may reach (B3.21). MSP is the
     * interrupt stack from reset, PSP becomes the thread stack when main starts. */
    const struct fwh_stack_desc *isr = fwh_stack_descriptor(FWH_STACK_ISR);
    const struct fwh_stack_desc *thread = fwh_stack_descriptor(FWH_STACK_THREAD);
    if (isr != 0) {
        __asm__ volatile("msr msplim, %0" ::"r"(isr->base));
    }
    if (thread != 0) {
        __asm__ volatile("msr psplim, %0" ::"r"(thread->base));
    }
#endif
    /* Faults above every interrupt: a MemManage/UsageFault inside an IRQ handler of equal
     * priority would escalate to HardFault. Priority registers are written as words,
     * which every core accepts (ARMv6-M allows nothing else); 0xFF = lowest. */
#if !defined(FWH_ARMV6M_LIKE)
    SCB_SHPR1[0] = 0u;            /* MemManage */
    SCB_SHPR1[1] = 0u;            /* BusFault */
    SCB_SHPR1[2] = 0u;            /* UsageFault */
#endif
    SCB_SHPR2 = 0xFF000000u;      /* SVCall lowest */
    SCB_SHPR3 = 0xFFFF0000u;      /* PendSV, SysTick lowest */
    for (uint32_t word = 0; word < (FWH_IRQ_COUNT + 3u) / 4u; ++word) {
        NVIC_IPR[word] = 0xFFFFFFFFu;
    }
#if !defined(FWH_ARMV6M_LIKE)
    SCB_SHCSR |= SCB_SHCSR_MEMFAULTENA_Msk | SCB_SHCSR_BUSFAULTENA_Msk |
                 SCB_SHCSR_USGFAULTENA_Msk;
#endif
#if defined(FWH_HAS_MPU)
    MPU_CTRL = MPU_CTRL_ENABLE_Msk | MPU_CTRL_PRIVDEFENA_Msk;
#endif
    __asm__ volatile("dsb\n isb" ::: "memory");
}

static const char *fault_name(uint32_t ipsr)
{
    switch (ipsr) {
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    default: return "Exception";
    }
}

/* Whether the hardware wrote a readable exception frame at `sp`. */
static uint32_t frame_is_valid(uint32_t cfsr, uint32_t sp)
{
    if (fwh_in_guard(sp)) {
        return 0u;
    }
#if defined(FWH_ARMV6M_LIKE)
    /* No status registers: trust only a frame inside a stack the map describes; reading
     * an unmapped address from HardFault would lock the core up. */
    (void)cfsr;
    return fwh_stack_of(sp) != FWH_STACK_NONE;
#else
    /* A stacking error means the hardware did not write the frame. */
    return (cfsr & (SCB_CFSR_MSTKERR_Msk | SCB_CFSR_STKERR_Msk)) == 0u;
#endif
}

__attribute__((noreturn, used)) void fwh_fault_capture(uint32_t msp, uint32_t psp,
                                                       uint32_t exc_return, uint32_t ipsr)
{
#if defined(FWH_HAS_MPU)
    MPU_CTRL = 0u;
    __asm__ volatile("dsb\n isb" ::: "memory");
#endif
    struct fwh_fault_record *rec = &fwh_last_fault;
    rec->magic = FWH_FAULT_MAGIC;
    rec->ipsr = ipsr & xPSR_ISR_Msk;
#if defined(FWH_ARMV6M_LIKE)
    /* ARMv6-M has only HardFault and no fault status or address registers. */
    rec->cfsr = rec->hfsr = rec->mmfar = rec->bfar = 0u;
#else
    rec->cfsr = SCB_CFSR;
    rec->hfsr = SCB_HFSR;
    rec->mmfar = SCB_MMFAR;
    rec->bfar = SCB_BFAR;
#endif
    rec->exc_return = exc_return;
    rec->msp = msp;
    rec->psp = psp;
    uint32_t sp = (exc_return & EXC_RETURN_SPSEL) ? psp : msp;
#if defined(FWH_ARMV8M_MAIN)
    if ((exc_return & EXC_RETURN_DCRS) == 0u) {
        sp += FWH_FRAME_V8M_CALLEE;   /* the basic frame sits above R4-R11 */
    }
#endif
    uint32_t frame_valid = frame_is_valid(rec->cfsr, sp);
    const volatile uint32_t *frame = (const volatile uint32_t *)sp;
    rec->r0 = frame_valid ? frame[0] : 0u;
    rec->r1 = frame_valid ? frame[1] : 0u;
    rec->r2 = frame_valid ? frame[2] : 0u;
    rec->r3 = frame_valid ? frame[3] : 0u;
    rec->r12 = frame_valid ? frame[4] : 0u;
    rec->lr = frame_valid ? frame[5] : 0u;
    rec->pc = frame_valid ? frame[6] : 0u;
    rec->xpsr = frame_valid ? frame[7] : 0u;
    uint32_t address = sp;
    if (rec->cfsr & SCB_CFSR_MMARVALID_Msk) {
        address = rec->mmfar;
    } else if (rec->cfsr & SCB_CFSR_BFARVALID_Msk) {
        address = rec->bfar;
    }
    rec->stack = fwh_stack_of(address);
    if (rec->stack == FWH_STACK_NONE) {
        rec->stack = fwh_stack_of(sp);
    }
    if (rec->stack == FWH_STACK_NONE) {
        /* SP ran past the guard (no MPU: nothing stopped it until the bus did). The frame
         * was pushed on MSP or PSP, which the runtime gives the interrupt and the thread
         * stack: below that stack's lowest address, the fault is that stack's overflow. */
        uint32_t id = (exc_return & EXC_RETURN_SPSEL) ? FWH_STACK_THREAD : FWH_STACK_ISR;
        const struct fwh_stack_desc *own = fwh_stack_descriptor(id);
        if (own != 0 && sp < own->base) {
            rec->stack = id;
        }
    }
    rec->count++;

    fwh_puts("FWH-FAULT v=1 arch=arm type=");
    fwh_puts(fault_name(rec->ipsr));
    fwh_fault_field("ipsr", rec->ipsr);
    fwh_fault_field("cfsr", rec->cfsr);
    fwh_fault_field("hfsr", rec->hfsr);
    fwh_fault_field("mmfar", rec->mmfar);
    fwh_fault_field("bfar", rec->bfar);
    fwh_fault_field("exc_return", exc_return);
    fwh_fault_field("msp", msp);
    fwh_fault_field("psp", psp);
    fwh_fault_field("sp", sp);
    fwh_fault_field("frame", frame_valid);
    fwh_fault_field("r0", rec->r0);
    fwh_fault_field("r1", rec->r1);
    fwh_fault_field("r2", rec->r2);
    fwh_fault_field("r3", rec->r3);
    fwh_fault_field("r12", rec->r12);
    fwh_fault_field("lr", rec->lr);
    fwh_fault_field("pc", rec->pc);
    fwh_fault_field("xpsr", rec->xpsr);
    fwh_fault_field("stack", rec->stack);
    /* Sixteen words of the stack for a backtrace: above the frame when it is valid (104
     * bytes when EXC_RETURN.FType says the FP context was stacked, plus the alignment pad
     * the stacked xPSR reports; DDI 0403E B1.5.7), else from the first word above the
     * guard the SP ran into. */
    uint32_t words_at = sp;
    if (frame_valid) {
        words_at += (exc_return & EXC_RETURN_FTYPE) ? FWH_FRAME_BASIC : FWH_FRAME_FP;
        words_at += (rec->xpsr & FWH_xPSR_SPREALIGN_Msk) ? 4u : 0u;
    }
    const struct fwh_stack_desc *desc = fwh_stack_descriptor(rec->stack);
    if (desc != 0 && (fwh_in_guard(words_at) || words_at < desc->guard_base)) {
        words_at = desc->base;
    }
    /* Never past the top of the stack: above it may be the end of RAM (a bus fault). */
    uint32_t count = 16u;
    if (desc != 0 && words_at < desc->base + desc->size &&
        (desc->base + desc->size - words_at) / 4u < count) {
        count = (desc->base + desc->size - words_at) / 4u;
    } else if (desc != 0 && words_at >= desc->base + desc->size) {
        count = 0u;
    }
    fwh_fault_words("words", words_at & ~3u, count);
    fwh_puts("\n");
    fwh_exit(FWH_EXIT_FAULT);
}

/* All fault vectors: leave the (possibly overflowed) stack first, without a push. Thumb-1
 * only (ARMv6-M): low registers for ldr, `bl` for the range (the capture never returns,
 * so LR may be lost; its entry value is passed in r2). On ARMv8-M the stack limit is
 * lifted first: the fault stack lies below the interrupt stack's MSPLIM.
 * The vector names are weak aliases: a project's own fault handlers (CubeMX's stm32*_it.c
 * defines all four) replace them, and `import-makefile --linker generated` says so; the
 * guards still fault, but no FWH-FAULT line or record is written then. */
__attribute__((naked, used)) void fwh_fault_entry(void)
{
    __asm__ volatile(
        ".syntax unified\n"
#if defined(FWH_ARMV8M_MAIN)
        "movs r0, #0\n"
        "msr msplim, r0\n"
#endif
        "mrs r0, msp\n"
        "mrs r1, psp\n"
        "mov r2, lr\n"
        "ldr r3, =fwh_fault_stack + " FWH_STR(FWH_FAULT_STACK_SIZE) "\n"
        "mov sp, r3\n"
        "mrs r3, ipsr\n"
        "bl fwh_fault_capture\n");
}

void HardFault_Handler(void) __attribute__((weak, alias("fwh_fault_entry")));
#if !defined(FWH_ARMV6M_LIKE)
void MemManage_Handler(void) __attribute__((weak, alias("fwh_fault_entry")));
void BusFault_Handler(void) __attribute__((weak, alias("fwh_fault_entry")));
void UsageFault_Handler(void) __attribute__((weak, alias("fwh_fault_entry")));
#endif
