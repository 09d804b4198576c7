/* RISC-V trap dispatch: interrupts through fwharden's table, exceptions to one handler.
 *
 * mcause bit 31 set = interrupt, the low bits are the cause (privileged spec 3.1.15;
 * ECLIC uses the low 12 bits as the interrupt id). The table is the generated
 * fwh_interrupt_table in section .isr_vector; its length comes from the linker symbols.
 */
#include <stdint.h>

#include "../fwharden.h"

extern const uintptr_t fwh_interrupt_table[];
extern const uint8_t __fwh_vectors_start[], __fwh_vectors_end[];

/* Weak: a project replaces it to handle exceptions itself. */
__attribute__((weak)) void Exception_Handler(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    fwh_puts("FWH: exception mcause=");
    fwh_put_hex(mcause);
    fwh_puts(" mepc=");
    fwh_put_hex(mepc);
    fwh_puts(" mtval=");
    fwh_put_hex(mtval);
    fwh_puts("\n");
    fwh_unexpected_interrupt();
}

/* Interrupts only: exceptions go from the trap entry to fwh_fault_capture. */
void fwh_trap_dispatch(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    if ((mcause & 0x80000000u) == 0u) {
        Exception_Handler(mcause, mepc, mtval);
        return;
    }
    uint32_t cause = mcause & 0xFFFu;
    uint32_t count = (uint32_t)(__fwh_vectors_end - __fwh_vectors_start) / sizeof(uintptr_t);
    if (cause < count && fwh_interrupt_table[cause] != 0u) {
#if defined(FWH_IRQ_CYCLES)
        /* irq_cycles: the handler's own cycles into slot `cause` (common/cycles.c). */
        struct fwh_irq_cycles_run run;
        fwh_irq_cycles_begin(&run);
        ((void (*)(void))fwh_interrupt_table[cause])();
        fwh_irq_cycles_end(cause, &run);
#else
        ((void (*)(void))fwh_interrupt_table[cause])();
#endif
    } else {
        fwh_unexpected_interrupt();
    }
}
