"""Fault context (issue 12 item 9): a handler that never returns is judged by its own rules.

A HardFault-style handler that ends in an endless loop, a reset or abort() does not come
back to the code it interrupted, so printing a fault report there (CmBacktrace, a
`printf` of the stacked registers) cannot corrupt a stdio state anyone resumes: it is a
warning, not an error. Allocation and blocking stay errors (the allocator or scheduler
can be mid-update and the handler would hang or corrupt memory it then reports from).

"Never returns" is shown from the code: the handler has no return instruction (`bx lr`,
`pop {.., pc}`, `ldm sp!, {.., pc}`, RISC-V `ret`/`mret`), no indirect branch, and every
branch that leaves it goes to a function that never returns by the same test. Anything
the test cannot read (undecodable bytes, `ldr pc`, a computed branch) counts as a return.
"""

from __future__ import annotations

from fwharden.harden.analysis.arguments import _listing
from fwharden.harden.analysis.callgraph import CallGraph

# Rules relaxed to a warning in fault context: printing only.
FAULT_RELAXED = frozenset({"stdio", "go-print"})


def _returns(mnem: str, ops: str, family: str) -> bool:
    """Whether one instruction may return (or jump somewhere the test cannot follow)."""
    # ARM: "pop.w" is pop; RISC-V: "c.jr" is jr (capstone names compressed forms c.*).
    base = mnem.split(".")[0] if family == "arm" else mnem.removeprefix("c.")
    operands = [o.strip() for o in ops.split(",")] if ops else []
    if family == "arm":
        if base.startswith("bx"):
            return True                       # bx lr, or a branch through a register
        if operands and operands[0] == "pc":
            return True                       # mov pc, lr; ldr pc, [...]; add pc, ...
        return base.startswith(("pop", "ldm")) and "pc" in ops
    if base in ("ret", "mret", "sret", "uret", "jr"):
        return True
    return base == "jalr" and bool(operands) and operands[0] == "zero"


def never_returns(graph: CallGraph, address: int, _seen: set[int] | None = None) -> bool:
    """True when the code shows the function at `address` cannot return (see above)."""
    seen = set() if _seen is None else _seen
    if address in seen:
        return True     # a loop of branches that never reaches a return
    seen.add(address)
    image = graph.image
    func = graph.function(address)
    decoded = graph.decoded.get(address) or graph.decode(func)
    if decoded.unknown:
        return False
    for _a, mnem, ops in _listing(image, func):
        if _returns(mnem, ops, image.family):
            return False
    for site in decoded.calls:
        if site.kind == "indirect-tail":
            return False
        if site.kind == "tail":
            for target in site.targets:
                callee = image.function_at(target)
                if callee is None or not never_returns(graph, callee.address, seen):
                    return False
    return True
