/* The interrupt wrappers TinyGo generates for interrupt.New, as vector-table entries. */
#include "go.h"

void run_handler(int index);
void install_tinygo_trap(void);
extern volatile int tick_source;
volatile int tick_source;

#if defined(FWH_ARCH_ARM)
#define UART_VECTOR UART0RX_IRQHandler
#define TICK_VECTOR TIMER0_IRQHandler
#define TABLE_VECTOR TIMER1_IRQHandler
#define DISPATCH_VECTOR SPI_IRQHandler
#define REPORT_VECTOR GPIO0_IRQHandler
#define ALLOC_VECTOR GPIO1_IRQHandler
#else
#define UART_VECTOR MachineSoftware_Handler
#define TICK_VECTOR MachineTimer_Handler
#define TABLE_VECTOR MachineExternal_Handler
#endif

void UART_VECTOR(void) { uart_handle_interrupt(); }
void TICK_VECTOR(void) { main_on_tick(tick_source); }
void TABLE_VECTOR(void) { run_handler(tick_source); }
#if defined(FWH_ARCH_ARM)
void DISPATCH_VECTOR(void) { main_dispatch(); }
void REPORT_VECTOR(void) { main_report(); }
void ALLOC_VECTOR(void) { (void)runtime_alloc(32); }
#endif

#if defined(FWH_ARCH_RISCV)
/* TinyGo on RISC-V: the start-up code points mtvec at handleInterruptASM, which saves
 * registers and calls the Go runtime's handleInterrupt; that dispatches on mcause to the
 * handlers interrupt.New registered (TinyGo src/device/riscv/handleinterrupt.S,
 * src/runtime/runtime_fe310.go). */
void handle_interrupt(void) GO("handleInterrupt");

KEEP void handle_interrupt(void)
{
    unsigned cause;
    __asm__ volatile("csrr %0, mcause" : "=r"(cause));
    switch (cause & 0xFFFu) {
    case 11: main_report(); break;
    case 3: (void)runtime_alloc(16); break;
    default: break;
    }
}

__asm__(".section .text.handleInterruptASM, \"ax\"\n"
        ".balign 4\n"
        ".globl handleInterruptASM\n"
        ".type handleInterruptASM, @function\n"
        "handleInterruptASM:\n"
        "addi sp, sp, -16\n"
        "sw ra, 12(sp)\n"
        "call handleInterrupt\n"
        "lw ra, 12(sp)\n"
        "addi sp, sp, 16\n"
        "mret\n"
        ".size handleInterruptASM, . - handleInterruptASM\n");

KEEP void install_tinygo_trap(void)
{
    __asm__ volatile("la t0, handleInterruptASM\n csrw mtvec, t0" ::: "t0");
}
#endif

int main(void)
{
#if defined(FWH_ARCH_RISCV)
    install_tinygo_trap();
#endif
    /* Thread context may do all of this. */
    runtime_printstring("main");
    (void)runtime_alloc(64);
    return 0;
}
