"""TinyGo's own crash messages: which stack the faulting SP was on, and its stack canary.

A TinyGo build links TinyGo's fault handlers, not fwharden's, so its console shows TinyGo's
lines (tinygo-org/tinygo v0.33.0): `fatal error: <cause> with sp=0x... pc=0x...` from
HardFault_Handler (src/runtime/runtime_cortexm_hardfault*.go), `fatal error: exception with
mcause=N pc=0x...` from the RISC-V trap (src/runtime/runtime_fe310.go), and `panic: ...
goroutine stack overflow` when a task switch finds a goroutine stack's lowest word (its
canary, src/internal/task/task_stack.go) overwritten. In fwharden's TinyGo layout the
scheduler and every handler run on the interrupt stack (`_stack_top`), goroutines on stacks
in the GC heap (`_heap_start`.._heap_end`), so the SP says which one overflowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fwharden.harden.elf.image import Image

_FATAL = re.compile(r"fatal error: (?P<cause>.*?)(?: with (?:bus )?fault address "
                    r"(?P<addr>0x[0-9a-fA-F]+))?(?: with sp=(?P<sp>0x[0-9a-fA-F]+))?"
                    r"(?: pc=(?P<pc>0x[0-9a-fA-F]+|\d+))?\s*$")
_MCAUSE = re.compile(r"exception with mcause=(?P<mcause>\d+) pc=(?P<pc>0x[0-9a-fA-F]+|\d+)")
_CANARY_PANIC = "goroutine stack overflow"


@dataclass(frozen=True)
class TinyGoFault:
    cause: str
    fields: dict[str, int]
    canary: bool          # TinyGo reported its goroutine stack canary overwritten


def find_tinygo_fault(text: str) -> TinyGoFault | None:
    """The last TinyGo crash message in a console log, or None if there is none."""
    found = None
    for line in text.splitlines():
        if _CANARY_PANIC in line and "panic:" in line:
            found = TinyGoFault("goroutine stack overflow", {}, True)
            continue
        match = _FATAL.search(line)
        if match is None:
            continue
        fields = {}
        exception = _MCAUSE.search(line)
        if exception:
            fields["mcause"] = int(exception["mcause"])
            fields["pc"] = int(exception["pc"], 0)
        for key in ("addr", "sp", "pc"):
            if match[key] and key not in fields:
                fields[key] = int(match[key], 0)
        found = TinyGoFault(match["cause"].strip(), fields, False)
    return found


def which_stack(image: Image, sp: int) -> str:
    """The stack that holds `sp`, in the terms of fwharden's TinyGo layout."""
    s = image.symbols
    spans = (
        ("__fwh_isr_guard_start", "__fwh_isr_guard_end",
         "the interrupt stack's guard: the interrupt stack (TinyGo's scheduler and handlers) "
         "overflowed"),
        ("__fwh_isr_stack_start", "__fwh_isr_stack_end",
         "the interrupt stack (TinyGo's scheduler and every handler run there)"),
        ("_heap_start", "_heap_end", "a goroutine stack in the GC heap"),
        ("__fwh_thread_stack_start", "__fwh_thread_stack_end", "the thread stack"),
    )
    for start, end, title in spans:
        if start in s and end in s and s[start] <= sp < s[end] + (1 if "stack_end" in end else 0):
            return title
    return "no stack of the layout (the SP itself is damaged)"
