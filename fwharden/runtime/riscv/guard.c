/* RISC-V guards and fault capture (privileged spec 1.12, 3.7 PMP).
 *
 * Each guard becomes a locked NAPOT PMP entry with no permissions: locked (L = 1) entries
 * restrict M-mode too, and cannot be changed until reset. The trap entry sends exceptions
 * here on a reserved fault stack; the capture records the trap CSRs and prints one
 * FWH-FAULT line.
 */
#include <stdint.h>

#include "../common/fault.h"
#include "../common/runtime.h"

#define PMP_L 0x80u
#define PMP_NAPOT 0x18u

uint32_t fwh_fault_stack[FWH_FAULT_STACK_SIZE / 4] __attribute__((aligned(16)));

struct fwh_fault_record {
    uint32_t magic;
    uint32_t mcause, mepc, mtval, sp, ra;
    uint32_t stack;
    uint32_t count;
};

__attribute__((section(".noinit"))) struct fwh_fault_record fwh_last_fault;

void fwh_guards_init(void)
{
    uint32_t cfg = 0;
    uint32_t entry = 0;
    for (uint32_t id = 0; id < fwh_stack_count() && entry < 4u; ++id) {
        const struct fwh_stack_desc *desc = fwh_stack_descriptor(id);
        if (desc == 0 || desc->guard_size < 8u) {
            continue;
        }
        /* NAPOT: pmpaddr = (base + size/2 - 1) >> 2 encodes a power-of-two range. */
        uint32_t napot = (desc->guard_base + desc->guard_size / 2u - 1u) >> 2;
        switch (entry) {
        case 0: __asm__ volatile("csrw pmpaddr0, %0" ::"r"(napot)); break;
        case 1: __asm__ volatile("csrw pmpaddr1, %0" ::"r"(napot)); break;
        case 2: __asm__ volatile("csrw pmpaddr2, %0" ::"r"(napot)); break;
        default: __asm__ volatile("csrw pmpaddr3, %0" ::"r"(napot)); break;
        }
        cfg |= (PMP_L | PMP_NAPOT) << (8u * entry);
        ++entry;
    }
    __asm__ volatile("csrw pmpcfg0, %0" ::"r"(cfg));
}

static const char *cause_name(uint32_t mcause)
{
    switch (mcause) {
    case 0: return "instruction-misaligned";
    case 1: return "instruction-access-fault";
    case 2: return "illegal-instruction";
    case 3: return "breakpoint";
    case 4: return "load-misaligned";
    case 5: return "load-access-fault";
    case 6: return "store-misaligned";
    case 7: return "store-access-fault";
    case 11: return "ecall";
    default: return "exception";
    }
}

__attribute__((noreturn, used)) void fwh_fault_capture(uint32_t mcause, uint32_t mepc,
                                                       uint32_t mtval, uint32_t sp, uint32_t ra)
{
    struct fwh_fault_record *rec = &fwh_last_fault;
    rec->magic = FWH_FAULT_MAGIC;
    rec->mcause = mcause;
    rec->mepc = mepc;
    rec->mtval = mtval;
    rec->sp = sp;
    rec->ra = ra;
    uint32_t access = mcause == 5u || mcause == 7u || mcause == 1u;
    rec->stack = access ? fwh_stack_of(mtval) : FWH_STACK_NONE;
    if (rec->stack == FWH_STACK_NONE) {
        rec->stack = fwh_stack_of(sp);
    }
    rec->count++;
    fwh_puts("FWH-FAULT v=1 arch=riscv type=");
    fwh_puts(cause_name(mcause));
    fwh_fault_field("mcause", mcause);
    fwh_fault_field("mepc", mepc);
    fwh_fault_field("mtval", mtval);
    fwh_fault_field("sp", sp);
    fwh_fault_field("ra", ra);
    fwh_fault_field("stack", rec->stack);
    const struct fwh_stack_desc *desc = fwh_stack_descriptor(rec->stack);
    uint32_t words_at = sp;
    if (desc != 0 && (fwh_in_guard(sp) || sp < desc->base)) {
        words_at = desc->base;  /* PMP would fault on the guard: read above it */
    }
    fwh_fault_words("words", words_at & ~3u, 16u);
    fwh_puts("\n");
    fwh_exit(FWH_EXIT_FAULT);
}
