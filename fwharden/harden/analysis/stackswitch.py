"""Which stack the code after an SP switch runs on, and how deep it goes there.

A handler that moves SP (`ldr sp, =fault_stack_top`, `msr msp, r0`, `la sp,
__isr_stack_top`) runs the rest of its chain on another stack. The call graph keeps those
calls off the depth of the stack the handler was entered on; this module puts them on the
stack they really use, so they are never left out of every bound:
- a switch to the interrupt stack (a symbol naming it, e.g. `__fwh_isr_stack_end`,
  `__isr_stack_top`) adds to the handler's own bound, which is what the interrupt-stack
  check sums (an over-estimate when part of the chain ran on the interrupted stack);
- a switch to any other constant (a fault stack) is bounded on that stack and checked
  against its size, taken from the symbols around it;
- a switch to a value the code does not give makes the handler's bound `at_least`, with a
  finding that says why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from fwharden.harden.analysis.bounds import AT_LEAST, Bound, Depths, Switch, reachable
from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.elf.image import Image

_ISR_NAME = re.compile(r"isr|irq|interrupt|trap", re.IGNORECASE)


@dataclass(frozen=True)
class OtherStack:
    """A stack that code switches to, other than the interrupt stack."""

    name: str
    top: int
    size: int | None
    worst_case: Bound
    functions: tuple[str, ...]     # the functions that switch to it


@dataclass(frozen=True)
class SwitchResult:
    extra: dict[str, Bound]                  # root name -> bound added on the ISR stack
    unproven: dict[str, list[str]]           # root name -> why its bound is a minimum
    others: tuple[OtherStack, ...]


def _names_at(image: Image, value: int) -> list[str]:
    return sorted(name for name, address in image.symbols.items() if address == value)


def _size(image: Image, value: int, names: list[str]) -> int | None:
    """The stack's size: a data object ending at its top, or a _start/_bottom/_base symbol
    with the same stem as the symbol naming the top."""
    for sym in image.data_symbols:
        if sym.size and sym.address + sym.size == value:
            return sym.size
    for name in names:
        stem = re.sub(r"_(end|top)$", "", name)
        if stem == name:
            continue
        for suffix in ("_start", "_bottom", "_base", "_limit"):
            low = image.symbols.get(stem + suffix)
            if low is not None and low < value:
                return value - low
        if f"{stem}_size" in image.symbols:
            return image.symbols[f"{stem}_size"]
    return None


def _label(image: Image, value: int, names: list[str]) -> str:
    """The object the stack is (`fwh_fault_stack + 512`), else a symbol at its top."""
    sym = next((s for s in image.data_symbols if s.size and s.address + s.size == value), None)
    if sym is not None:
        return f"{sym.name} + {sym.size}"
    return names[0] if names else f"0x{value:08x}"


def place_switches(image: Image, graph: CallGraph, depths: Depths, switches: list[Switch],
                   roots: list[tuple[str, int]]) -> SwitchResult:
    """Put each switch reachable from an interrupt root (name, address) on its stack."""
    extra: dict[str, Bound] = {}
    unproven: dict[str, list[str]] = {}
    others: dict[int, tuple[Bound, list[str]]] = {}
    for root_name, root_address in roots:
        reached = reachable(graph, root_address)
        for switch in switches:
            if switch.function not in reached:
                continue
            func = graph.function(switch.function).name
            if switch.value is None:
                unproven.setdefault(root_name, []).append(
                    f"{func} moves SP at 0x{switch.site:08x} to a value the verifier cannot "
                    "follow; what runs after it is on an unknown stack")
                extra[root_name] = extra.get(root_name, Bound(0, AT_LEAST)).plus(
                    Bound(switch.bound.bytes, AT_LEAST))
                continue
            top = switch.value
            names = _names_at(image, switch.value)
            if any(_ISR_NAME.search(n) for n in names):
                extra[root_name] = extra.get(root_name, Bound(0, "exact")).plus(switch.bound)
                continue
            bound, users = others.get(top, (Bound(0, "exact"), []))
            if func not in users:
                # Two handlers that switch to one stack may nest (NMI over HardFault):
                # their bounds add up.
                bound = bound.plus(switch.bound)
                users.append(func)
            others[top] = (bound, users)
    stacks = []
    for top, (bound, users) in sorted(others.items()):
        names = _names_at(image, top)
        stacks.append(OtherStack(_label(image, top, names), top, _size(image, top, names), bound,
                                 tuple(users)))
    return SwitchResult(extra, unproven, tuple(stacks))
