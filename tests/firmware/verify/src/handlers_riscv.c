/* RISC-V: three scenarios behind fwharden's direct-mode dispatch table, three behind a
 * CLINT vectored table (mtvec mode 1) that main() installs. */
#include "scenarios.h"

#if defined(FWH_ARCH_RISCV)
void MachineSoftware_Handler(void)
{
    scenario_deep();
}

void MachineTimer_Handler(void)
{
    scenario_tail(3);
}

void MachineExternal_Handler(void)
{
    scenario_indirect();
}

/* Vectored mode: entry n is a jump to the handler of cause n (privileged spec 3.1.7). */
__attribute__((interrupt("machine"), used)) void vt_exception(void)
{
    scenario_dispatch(1);
}

__attribute__((interrupt("machine"), used)) void vt_msip(void)
{
    (void)scenario_recursion(5);
}

__attribute__((interrupt("machine"), used)) void vt_mtimer(void)
{
    extern volatile int g_input;
    (void)scenario_switch(g_input);
}

__asm__(".section .text.vt_table, \"ax\"\n"
        ".balign 64\n"
        ".globl vt_table\n"
        "vt_table:\n"
        ".option push\n"
        ".option norvc\n"
        "j vt_exception\n"
        "j vt_exception\n"
        "j vt_exception\n"
        "j vt_msip\n"
        "j vt_exception\n"
        "j vt_exception\n"
        "j vt_exception\n"
        "j vt_mtimer\n"
        ".option pop\n");

/* main() calls this: from then on traps enter through vt_table. */
KEEP void use_vectored_table(void)
{
    __asm__ volatile("la t0, vt_table\n"
                     "ori t0, t0, 1\n"
                     "csrw mtvec, t0\n" ::: "t0");
}
#endif
