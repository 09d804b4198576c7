"""`Layout -> str`: the C source of the board's vector table and stack-map reservation.

ARM: word 0 is the initial SP (the top of the interrupt stack, so exceptions run on the
isolated stack from the first instruction), then the system exceptions and one entry per
IRQ (ARM DDI 0403E B1.5.3). RISC-V: a table of handler addresses indexed by the interrupt
cause, which fwharden's trap entry dispatches through (and which ECLIC's mtvt points at).
Every handler is a weak alias of one `Default_Handler`, so a project defines only what it
uses. The same file reserves the read-only `.fwh_stackmap` bytes that the linker script
places and the post-link step fills (a linker-script LONG() would make the section
writable, and ld.lld 14 has no READONLY keyword). Must not: read files or print.
"""

from __future__ import annotations

from fwharden.board_profiles import Profile

from .layout import Layout
from .script import HEADER_LINE

# ARMv7-M system exception numbers 1..15 (ARM DDI 0403E B1.5.2); None = reserved.
ARM_SYSTEM = (
    "Reset_Handler", "NMI_Handler", "HardFault_Handler", "MemManage_Handler",
    "BusFault_Handler", "UsageFault_Handler", None, None, None, None, "SVC_Handler",
    "DebugMon_Handler", None, "PendSV_Handler", "SysTick_Handler",
)
# ARMv6-M has no configurable faults and no debug monitor (ARM DDI 0419 B1.5.2).
ARMV6_RESERVED = {"MemManage_Handler", "BusFault_Handler", "UsageFault_Handler",
                  "DebugMon_Handler"}
# Defined (weak) by fwharden's runtime (runtime/cortex_m/guard.c): declared, not aliased to
# Default_Handler, so the runtime's definition or the project's strong one is the only one.
ARM_RUNTIME_HANDLERS = {"HardFault_Handler", "MemManage_Handler", "BusFault_Handler",
                        "UsageFault_Handler"}
# RISC-V machine interrupt causes (privileged spec 3.1.15, Table 3.6).
RISCV_CLINT = {3: "MachineSoftware_Handler", 7: "MachineTimer_Handler",
               11: "MachineExternal_Handler"}


def irq_handler_name(profile: Profile, irq: int) -> str:
    """The vendor's handler name for a line (CMSIS `<NAME>_IRQHandler`, or the profile's
    `[interrupts.handlers]` entry), else `IRQ<n>_Handler`."""
    return profile.interrupts.handler_of(irq)


def vector_entries(profile: Profile) -> list[str | None]:
    """Handler symbol for each table slot (ARM slot 0, the SP, is left out)."""
    if profile.cpu.family == "arm":
        system = [None if profile.cpu.arch == "armv6-m" and h in ARMV6_RESERVED else h
                  for h in ARM_SYSTEM]
        return system + [irq_handler_name(profile, i)
                         for i in range(profile.interrupts.irq_count)]
    if profile.interrupts.controller == "eclic":
        return [irq_handler_name(profile, i) for i in range(profile.interrupts.irq_count)]
    if profile.interrupts.controller == "intmatrix":
        # Cause 0 is no interrupt line (ESP32-C3 CPU lines are 1..31).
        return [None] + [irq_handler_name(profile, i)
                         for i in range(1, profile.interrupts.irq_count)]
    return [RISCV_CLINT.get(cause) for cause in range(profile.vector_count)]


# irq_cycles on Cortex-M: SysTick (15) and the IRQs are timed through a wrapper. SVCall
# and PendSV are not (an RTOS switches context there and returns through EXC_RETURN in
# LR, which a wrapper's call would replace), nor the fault handlers, whose reporter reads
# EXC_RETURN to find the stacked frame, nor NMI.
FIRST_TIMED_ARM = 15


def timed_wrapper(handler: str) -> str:
    """The name of the irq_cycles wrapper that the table holds instead of `handler`."""
    return f"fwh_timed_{handler}"


def render_vector_table(layout: Layout, irq_cycles: bool = False) -> str:
    """The vector table source; with `irq_cycles`, timed slots point at wrappers that
    count each run's cycles into slot = table index (runtime/common/cycles.c)."""
    profile = layout.profile
    entries = vector_entries(profile)
    handlers = sorted({h for h in entries if h and h != "Reset_Handler"})
    arm = profile.cpu.family == "arm"
    lines = [
        f"/* {HEADER_LINE}.",
        f" * Vector table of board {profile.name}: {profile.vector_count} entries "
        + ("(SP, 15 system exceptions, IRQs)." if arm else "(indexed by mcause)."),
        " * Define any handler below in your code to replace the weak default.",
        " */",
        "#include <stdint.h>",
        "",
        "void fwh_unexpected_interrupt(void);",
        "",
        "/* Weak, so the runtime or the project may replace it; every unset slot lands here. */",
        "__attribute__((weak, used)) void Default_Handler(void)",
        "{",
        "    fwh_unexpected_interrupt();",
        "}",
        "",
    ]
    if arm:
        lines += ["extern uint32_t __fwh_isr_stack_end;", "void Reset_Handler(void);"]
    for handler in handlers:
        if arm and handler in ARM_RUNTIME_HANDLERS:
            lines.append(f"void {handler}(void);  /* fwharden's fault reporter, or yours */")
        else:
            lines.append(f'void {handler}(void) __attribute__((weak, alias("Default_Handler")));')
    first = 1 if arm else 0
    timed: dict[int, str] = {}
    if irq_cycles:
        lines += ["", '#include "fwharden.h"', "",
                  "/* irq_cycles: one slot per table entry (runtime/common/cycles.c). */",
                  f"uint32_t fwh_irq_cycles_max[{profile.vector_count}];",
                  f"const uint32_t fwh_irq_cycles_slots = {profile.vector_count}u;"]
        if arm:
            timed = {index: handler for index, handler in enumerate(entries, start=first)
                     if handler and index >= FIRST_TIMED_ARM}
        for index, handler in timed.items():
            lines += ["",
                      f"/* Slot {index}: {handler}'s own cycles. */",
                      f"__attribute__((used)) static void {timed_wrapper(handler)}(void)",
                      "{",
                      "    struct fwh_irq_cycles_run run;",
                      "    fwh_irq_cycles_begin(&run);",
                      f"    {handler}();",
                      f"    fwh_irq_cycles_end({index}u, &run);",
                      "}"]
    table = "fwh_vector_table" if arm else "fwh_interrupt_table"
    lines += [
        "",
        '__attribute__((section(".isr_vector"), used))',
        f"const uintptr_t {table}[{profile.vector_count}] = {{",
    ]
    if arm:
        lines.append("    (uintptr_t)&__fwh_isr_stack_end,  /* 0: initial SP = interrupt stack top */")
    for index, handler in enumerate(entries, start=first):
        target = timed_wrapper(handler) if index in timed else handler
        value = f"(uintptr_t){target}" if handler else "0"
        label = f"IRQ {index - 16}" if arm and index >= 16 else f"{index}"
        lines.append(f"    {value + ',':<40} /* {label} */")
    lines += [
        "};",
        "",
        "/* Filled in after the link with the stack map (regions, guards, watermark). */",
        '__attribute__((section(".fwh_stackmap"), used, aligned(8)))',
        f"const uint8_t fwh_stackmap_reserved[{layout.stackmap_size}];",
        "",
    ]
    return "\n".join(lines)


def render_stackmap_reservation(layout: Layout) -> str:
    """Only the stack-map reservation: TinyGo builds bring their own vector table."""
    return "\n".join([
        f"/* {HEADER_LINE}.",
        " * The .fwh_stackmap reservation for a TinyGo build (TinyGo provides the vector",
        " * table and start-up code itself). Filled in after the link.",
        " */",
        "#include <stdint.h>",
        "",
        '__attribute__((section(".fwh_stackmap"), used, aligned(8)))',
        f"const uint8_t fwh_stackmap_reserved[{layout.stackmap_size}];",
        "",
    ])
