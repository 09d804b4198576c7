/* ARMv7-M guards and fault capture (ARM DDI 0403E B3.5 MPU, B3.2 SCB).
 *
 * Each stack's guard becomes one MPU region with no access (AP = 0b000, XN), so the first
 * store below a stack raises MemManage. The fault handlers first move SP onto a reserved
 * fault stack: an overflow leaves SP inside the guard, and a handler that pushed there
 * would fault again (escalating to HardFault and overwriting MMFAR). The capture then
 * turns the MPU off (so it may read any memory), records the fault in .noinit, prints one
 * FWH-FAULT line and ends the run.
 */
#include <stdint.h>

#include "../common/runtime.h"

#define SCB_SHCSR (*(volatile uint32_t *)0xE000ED24u)
#define SCB_SHPR1 ((volatile uint8_t *)0xE000ED18u)
#define SCB_SHPR2 (*(volatile uint32_t *)0xE000ED1Cu)
#define SCB_SHPR3 (*(volatile uint32_t *)0xE000ED20u)
#define SCB_CFSR (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR (*(volatile uint32_t *)0xE000ED2Cu)
#define SCB_MMFAR (*(volatile uint32_t *)0xE000ED34u)
#define SCB_BFAR (*(volatile uint32_t *)0xE000ED38u)
#define MPU_TYPE (*(volatile uint32_t *)0xE000ED90u)
#define MPU_CTRL (*(volatile uint32_t *)0xE000ED94u)
#define MPU_RNR (*(volatile uint32_t *)0xE000ED98u)
#define MPU_RBAR (*(volatile uint32_t *)0xE000ED9Cu)
#define MPU_RASR (*(volatile uint32_t *)0xE000EDA0u)
#define NVIC_IPR ((volatile uint8_t *)0xE000E400u)

#define SHCSR_FAULTS ((1u << 16) | (1u << 17) | (1u << 18)) /* MEM/BUS/USG FAULTENA */
#define MPU_CTRL_ENABLE_PRIVDEFENA 0x5u
#define RASR_XN (1u << 28)
#define RASR_ENABLE 1u
#define CFSR_MMARVALID (1u << 7)
#define CFSR_MSTKERR (1u << 4)
#define CFSR_STKERR (1u << 12)
#define CFSR_BFARVALID (1u << 15)

#ifndef FWH_IRQ_COUNT
#define FWH_IRQ_COUNT 32
#endif

/* The fault stack: big enough for the capture and its console output. */
uint32_t fwh_fault_stack[128] __attribute__((aligned(8)));

struct fwh_fault_record {
    uint32_t magic;
    uint32_t ipsr, cfsr, hfsr, mmfar, bfar, exc_return, msp, psp;
    uint32_t r0, r1, r2, r3, r12, lr, pc, xpsr;
    uint32_t stack;      /* id of the stack the fault belongs to, 0xFF if none */
    uint32_t count;      /* faults recorded since power-on */
};

/* Kept across a reset (not zeroed by the start-up code) for a debugger or the next boot. */
__attribute__((section(".noinit"))) struct fwh_fault_record fwh_last_fault;

static uint32_t log2_of(uint32_t value)
{
    uint32_t bits = 0;
    while ((1u << bits) < value) {
        ++bits;
    }
    return bits;
}

void fwh_guards_init(void)
{
    uint32_t regions = (MPU_TYPE >> 8) & 0xFFu;
    uint32_t region = 0;
    for (uint32_t id = 0; id < fwh_stack_count() && region < regions; ++id) {
        const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
        if (desc == 0 || desc->guard_size < 32u) {
            continue;
        }
        /* Lowest-numbered regions first; a project's own regions should use higher ones. */
        MPU_RNR = region++;
        MPU_RBAR = desc->guard_base;
        MPU_RASR = RASR_XN | ((log2_of(desc->guard_size) - 1u) << 1) | RASR_ENABLE;
    }
    /* Faults at the highest configurable priority, every interrupt below them: a
     * MemManage inside an IRQ handler of equal priority would escalate to HardFault. */
    SCB_SHPR1[0] = 0u;
    SCB_SHPR1[1] = 0u;
    SCB_SHPR1[2] = 0u;
    SCB_SHPR2 = 0xFF000000u;      /* SVCall lowest */
    SCB_SHPR3 = 0xFFFF0000u;      /* PendSV, SysTick lowest */
    for (uint32_t irq = 0; irq < FWH_IRQ_COUNT; ++irq) {
        NVIC_IPR[irq] = 0xFFu;
    }
    SCB_SHCSR |= SHCSR_FAULTS;
    MPU_CTRL = MPU_CTRL_ENABLE_PRIVDEFENA;
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

__attribute__((noreturn, used)) void fwh_fault_capture(uint32_t msp, uint32_t psp,
                                                       uint32_t exc_return, uint32_t ipsr)
{
    MPU_CTRL = 0u;
    __asm__ volatile("dsb\n isb" ::: "memory");
    struct fwh_fault_record *rec = &fwh_last_fault;
    rec->magic = 0x46574846u; /* "FHWF" */
    rec->ipsr = ipsr & 0x1FFu;
    rec->cfsr = SCB_CFSR;
    rec->hfsr = SCB_HFSR;
    rec->mmfar = SCB_MMFAR;
    rec->bfar = SCB_BFAR;
    rec->exc_return = exc_return;
    rec->msp = msp;
    rec->psp = psp;
    uint32_t sp = (exc_return & 4u) ? psp : msp;
    /* A stacking error means the hardware did not write the frame: it is not valid. */
    uint32_t frame_valid = (rec->cfsr & (CFSR_MSTKERR | CFSR_STKERR)) == 0u;
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
    if (rec->cfsr & CFSR_MMARVALID) {
        address = rec->mmfar;
    } else if (rec->cfsr & CFSR_BFARVALID) {
        address = rec->bfar;
    }
    rec->stack = fwh_stack_of(address);
    if (rec->stack == 0xFFu) {
        rec->stack = fwh_stack_of(sp);
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
    /* Sixteen words of the stack for a backtrace: above the frame when it is valid,
     * else from the first word above the guard the SP ran into. */
    uint32_t words_at = frame_valid ? sp + 32u : sp;
    const struct fwh_stack_desc *desc = fwh_stack_descriptor(rec->stack);
    if (desc != 0 && fwh_in_guard(words_at)) {
        words_at = desc->base;
    }
    fwh_fault_words("words", words_at & ~3u, 16u);
    fwh_puts("\n");
    fwh_exit(FWH_EXIT_FAULT);
}

/* All four fault vectors: leave the (possibly overflowed) stack first. */
__attribute__((naked, used)) void HardFault_Handler(void)
{
    __asm__ volatile(
        "mrs r0, msp\n"
        "mrs r1, psp\n"
        "mov r2, lr\n"
        "mrs r3, ipsr\n"
        "ldr r12, =fwh_fault_stack + 512\n"
        "mov sp, r12\n"
        "b fwh_fault_capture\n");
}

void MemManage_Handler(void) __attribute__((alias("HardFault_Handler")));
void BusFault_Handler(void) __attribute__((alias("HardFault_Handler")));
void UsageFault_Handler(void) __attribute__((alias("HardFault_Handler")));
