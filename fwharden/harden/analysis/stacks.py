"""Per-handler stack bounds and the interrupt/thread stack checks, with preemption levels.

Worst case of the interrupt stack = sum over the preemption levels that can nest of the
deepest handler at that level plus the frame the hardware stacks on entry. On Cortex-M
the frame size is `board_profiles.model.arm_exception_frame` (ARM DDI 0403E B1.5.7), the
one home of those numbers; RISC-V stacks nothing in hardware (the trap entry's own frame
is part of its function's bound).
"""

from __future__ import annotations

from dataclasses import dataclass

from fwharden.board_profiles import Profile
from fwharden.board_profiles.model import arm_exception_frame
from fwharden.harden.analysis.arguments import _listing
from fwharden.harden.analysis.bounds import (
    AT_LEAST,
    EXACT,
    UNBOUNDED,
    Bound,
    Depths,
    deepest_path,
    switched_root_depth,
)
from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.analysis.findings import Finding, make_finding
from fwharden.harden.analysis.frames import FrameSize
from fwharden.harden.analysis.policy import HardenPolicy, Severity
from fwharden.harden.analysis.priorities import Priority
from fwharden.harden.analysis.roots import Root, RootKind, VectorTable, root_names, vector_label
from fwharden.harden.analysis.stackswitch import SwitchResult
from fwharden.harden.elf.image import Image
from fwharden.harden.errors import HardenError

# Exceptions with a fixed priority above every configurable one (B1.5.4): they can preempt
# any handler, so each is its own level on top of the configurable ones.
ARM_FIXED_PRIORITY = {2: "NMI", 3: "HardFault"}


@dataclass(frozen=True)
class PathStep:
    """One function on a handler's deepest call path, with its own frame."""

    function: str
    frame: int


@dataclass(frozen=True)
class InterruptReport:
    """A root the hardware enters, with its worst-case stack and the path that gives it."""

    vectors: tuple[int, ...]
    labels: tuple[str, ...]
    name: str
    aliases: tuple[str, ...]
    address: int
    kind: RootKind
    stack: Bound
    deepest: tuple[PathStep, ...]   # from the root down the worst path
    # Its preemption priority and where that came from (priorities.py); None: not looked for.
    priority: Priority | None = None


@dataclass(frozen=True)
class StackLevel:
    """One preemption level of a stack check: the deepest handler there and its frame."""

    label: str
    handler: Bound
    hardware_frame: int


@dataclass(frozen=True)
class StackCheck:
    """A stack region against the worst case the analysis found for it."""

    name: str
    size: int | None
    worst_case: Bound
    levels: tuple[StackLevel, ...]

    @property
    def margin(self) -> int | None:
        if self.size is None or self.worst_case.kind == UNBOUNDED:
            return None
        return self.size - self.worst_case.bytes


def interrupt_report(table: VectorTable, graph: CallGraph, depths: Depths,
                     frames: dict[int, FrameSize], root: Root,
                     placed: SwitchResult | None = None) -> InterruptReport:
    address = root.function.address
    stack = depths.depth[address]
    if placed is not None and root.name in placed.extra:
        # Code after a switch onto the interrupt stack runs there too (stackswitch.py).
        stack = stack.plus(placed.extra[root.name])
    chain = [PathStep(root.name, frames[address].bytes)]
    for edge in deepest_path(depths, address):
        chain.append(PathStep(graph.function(edge.callee).name, frames[edge.callee].bytes))
    return InterruptReport(vectors=root.vectors,
                           labels=tuple(vector_label(table, i) for i in root.vectors),
                           name=root.name, aliases=root_names(root.function)[1:], address=address,
                           kind=root.kind, stack=stack, deepest=tuple(chain))


def hardware_frame(image: Image, profile: Profile | None) -> int:
    """Bytes the hardware stacks on one exception entry, alignment word included."""
    if image.family != "arm":
        return 0  # RISC-V pushes nothing; the trap entry's own frame is in its function
    # NOTE: without a profile the ELF's attributes decide (an ELF without them counts as
    # using FP: the larger frame).
    fp = profile.cpu.fp_context_possible(image.arm_fp) if profile else image.arm_fp
    return arm_exception_frame(fp, align_pad=True)


def _symbol_size(image: Image, name: str) -> int | None:
    size = image.symbols.get(f"__fwh_{name}_stack_size")
    end = image.symbols.get(f"__fwh_{name}_stack_end")
    if size is None and end is not None:
        start = image.symbols.get(f"__fwh_{name}_stack_start")
        if start is None or start > end:
            raise HardenError(f"{image.path}: symbol __fwh_{name}_stack_end without a "
                              f"__fwh_{name}_stack_start below it; fix: link with the linker "
                              "script fwharden generates, or define both")
        size = end - start
    return size


def _deepest(items: list[InterruptReport]) -> Bound:
    best = items[0].stack
    for item in items[1:]:
        best = best.widest(item.stack)
    return best


def _level_label(level: int, items: list[InterruptReport]) -> str:
    """'priority 5', and when the code gave it: the deepest handler there, where its
    priority came from, and how many others share it (they do not nest with it)."""
    if all(i.priority is None for i in items):
        return f"priority {level}"
    deepest = max(items, key=lambda i: i.stack.rank())
    origin = deepest.priority.origin if deepest.priority else "firmware.toml"
    others = len(items) - 1
    more = f"; {others} more handler(s) at this priority, which do not nest with it" \
        if others else ""
    return f"priority {level}: {deepest.name} ({origin}){more}"


def _unknown_why(item: InterruptReport) -> str:
    if item.priority is None:
        return "priority not given"
    why = item.priority.note or item.priority.origin
    return f"priority unknown: {why}"


# CSR 0x7ED is the Nuclei ECLIC's jalmnxti: it sets mstatus.MIE and jumps to the next
# pending non-vectored handler (Nuclei ECLIC spec, "CSR jalmnxti"; the SDK's irq_entry).
_JALMNXTI = "0x7ed"


def _reenables(image: Image, interrupts: tuple[InterruptReport, ...]) -> str | None:
    """Where interrupts are turned back on inside interrupt code, as 'name at 0x...', or
    None: a jalmnxti (csrrw/csrrs on CSR 0x7ED) anywhere, or a root whose own code sets
    mstatus.MIE (csrs mstatus, reg / csrsi mstatus, 8). A handler that enables through a
    function it calls is not seen; fwharden's own trap entry enables nothing."""
    for func in image.functions:
        # jalmnxti anywhere in the code (the SDK's irq_entry is often not a root itself):
        # SYSTEM opcode 0x73 with CSR 0x7ED in bits 31:20.
        data = image.read(func.address, func.size) or b""
        for at in range(0, len(data) - 3, 2):
            if data[at] & 0x7F == 0x73 and data[at + 3] == 0x7E and data[at + 2] >> 4 == 0xD:
                return f"{func.name} at 0x{func.address + at:08x} (jalmnxti)"
    for item in interrupts:
        func = image.function_at(item.address)
        if func is None:
            continue
        for address, mnem, ops in _listing(image, func):
            operands = [o.strip() for o in ops.split(",")] if ops else []
            if _JALMNXTI in operands and mnem in ("csrrw", "csrrs", "csrw", "csrs"):
                return f"{item.name} at 0x{address:08x} (jalmnxti)"
            if mnem in ("csrsi", "csrs") and operands and operands[0] == "mstatus":
                bit = operands[-1]
                if mnem == "csrs" or (bit.lstrip("-").isdigit() and int(bit) & 8):
                    return f"{item.name} at 0x{address:08x} ({mnem} mstatus)"
    return None


def _eclic_levels(interrupts: tuple[InterruptReport, ...], why: str) -> list[tuple[str, Bound]]:
    """A root re-enables interrupts (the Nuclei SDK's irq_entry does): a handler may be
    preempted by one of a higher ECLIC level. One level per distinct ECLIC level (each
    with the deepest handler there and the deepest trap entry, which it runs under);
    a handler of unknown level is its own."""
    entries = [i for i in interrupts if i.kind == "trap-entry"]
    entry = _deepest(entries) if entries else Bound(0, EXACT)
    grouped: dict[int, list[InterruptReport]] = {}
    loose = []
    for item in interrupts:
        if item.kind != "handler":
            continue
        level = item.priority.level if item.priority is not None else None
        if level is None:
            loose.append(item)
        else:
            grouped.setdefault(level, []).append(item)
    if len(grouped) <= 1 and not loose:
        return []       # one level: nothing preempts anything (equal levels never do)
    out = [(f"{_level_label(lvl, items).replace('priority', 'ECLIC level', 1)} under the "
            f"trap entry; interrupts re-enabled by {why}", _deepest(items).plus(entry))
           for lvl, items in sorted(grouped.items())]
    out += [(f"{item.name} ({_unknown_why(item)}) under the trap entry",
             item.stack.plus(entry)) for item in loose]
    if not out:
        out = [(f"trap entry; interrupts re-enabled by {why}", entry)]
    return out


def isr_stack(image: Image, profile: Profile | None, policy: HardenPolicy,
              interrupts: tuple[InterruptReport, ...]) -> StackCheck:
    """Sum over preemption levels of the deepest handler at that level plus its frame."""
    frame = hardware_frame(image, profile)
    levels: list[tuple[str, Bound]] = []
    if image.family == "arm":
        fixed = [i for i in interrupts if any(v in ARM_FIXED_PRIORITY for v in i.vectors)]
        configurable = [i for i in interrupts if i not in fixed]
        priorities = dict(policy.priorities)
        grouped: dict[int, list[InterruptReport]] = {}
        loose = []
        for item in configurable:
            if item.priority is not None:
                level = item.priority.level
            else:
                level = next((priorities[n] for n in (item.name, *item.aliases)
                              if n in priorities), None)
            if level is None:
                loose.append(item)
            else:
                grouped.setdefault(level, []).append(item)
        count = policy.nesting_levels or (1 << profile.interrupts.priority_bits if profile
                                          else len(configurable))
        candidates = [(_level_label(lvl, items), _deepest(items))
                      for lvl, items in sorted(grouped.items())]
        candidates += [(f"{item.name} ({_unknown_why(item)})", item.stack) for item in loose]
        candidates.sort(key=lambda c: c[1].rank(), reverse=True)
        levels = candidates[:count]
        levels += [(ARM_FIXED_PRIORITY[v], i.stack) for i in fixed for v in i.vectors
                   if v in ARM_FIXED_PRIORITY]
    else:
        # Code the hardware enters: trap entries (their bound includes what they dispatch
        # to) and handlers of vectored tables. fwharden's trap entry never re-enables
        # interrupts, so one level unless [harden] nesting_levels says otherwise, or the
        # code re-enables them in interrupt context (ECLIC: by level, _eclic_levels).
        pool = [i for i in interrupts if i.kind in ("trap-entry", "handler")]
        count = policy.nesting_levels or 1
        ranked = sorted(pool, key=lambda i: i.stack.rank(), reverse=True)
        levels = [(f"level {n + 1}: {i.name}", i.stack) for n, i in enumerate(ranked[:1] * count)]
        enabling = _reenables(image, interrupts)
        if enabling and not policy.nesting_levels and ranked:
            levels = _eclic_levels(interrupts, enabling) or levels
    worst = Bound(0, EXACT)
    rows = []
    for label, bound in levels:
        worst = worst.plus(bound).plus(Bound(frame, EXACT))
        rows.append(StackLevel(label, bound, frame))
    return StackCheck("interrupt stack", _symbol_size(image, "isr"), worst, tuple(rows))


def thread_stack(image: Image, profile: Profile | None, table: VectorTable, graph: CallGraph,
                 frames: dict[int, FrameSize], depths: Depths) -> StackCheck | None:
    """main()'s chain from the reset entry, plus the first exception frame: on ARMv7-M an
    interrupt taken in thread mode stacks its frame on PSP, the thread stack."""
    if table.thread is None:
        return None
    depth = switched_root_depth(graph, frames, depths, table.thread.function.address)
    frame = hardware_frame(image, profile)
    worst = depth.plus(Bound(frame, EXACT))
    return StackCheck("thread stack", _symbol_size(image, "thread"), worst,
                      (StackLevel(table.thread.name, depth, frame),))


def other_stack_checks(placed: SwitchResult) -> tuple[StackCheck, ...]:
    """A check for each stack handlers switch to other than the interrupt stack."""
    return tuple(StackCheck(f"stack {o.name} (used by {', '.join(o.functions)})", o.size,
                            o.worst_case, tuple(StackLevel(f, o.worst_case, 0)
                                                for f in o.functions))
                 for o in placed.others)


def stack_findings(check: StackCheck, rule: str, severity: dict[str, Severity]) -> list[Finding]:
    """The finding (at most one) a stack check gives: overflow, unbounded, or unproven."""
    worst = check.worst_case
    if check.size is None:
        return []
    if worst.kind == UNBOUNDED:
        return [make_finding(rule, severity, f"{check.name}: worst case is unbounded "
                             f"(recursion); {check.size} B reserved")]
    if worst.bytes > check.size:
        return [make_finding(rule, severity, f"{check.name}: worst case {worst.describe()} "
                             f"exceeds the {check.size} B reserved by "
                             f"{worst.bytes - check.size} B")]
    if worst.kind == AT_LEAST:
        return [make_finding("stack-unproven", severity,
                             f"{check.name}: worst case is at least {worst.bytes} B of "
                             f"{check.size} B; part of the chain has no static bound")]
    return []


def vendor_check(size: int, source: str, isr: StackCheck, thread: StackCheck | None,
                 severity: dict[str, Severity]) -> tuple[StackCheck, list[Finding]]:
    """The vendor script's one stack against main() plus the interrupts. Without known
    priorities every handler is assumed to preempt every other, which overstates CubeMX
    projects several times; so an overflow only under that assumption is a warning that
    says so, and an error needs main plus the single deepest handler not to fit."""
    name = f"main stack of the vendor linker script ({source})"
    base = thread.worst_case if thread else Bound(0, EXACT)
    worst = isr.worst_case.plus(base)
    single = base
    for level in isr.levels:
        single = single.widest(base.plus(level.handler).plus(Bound(level.hardware_frame, EXACT)))
    check = StackCheck(name, size, worst, (*isr.levels, *(thread.levels if thread else ())))
    if worst.kind == UNBOUNDED or single.kind == UNBOUNDED:
        return check, [make_finding("stack-unproven", severity,
                                    f"{name}: the worst case is unbounded (recursion); {size} B "
                                    "reserved, not checked")]
    if single.bytes > size:
        return check, [make_finding("isr-stack-overflow", severity,
                                    f"{name}: main() and the deepest handler alone need "
                                    f"{single.describe()}, more than the {size} B reserved")]
    if worst.bytes > size:
        return check, [make_finding("stack-unproven", severity,
                                    f"{name}: main() with one handler fits "
                                    f"({single.describe()} of {size} B), but if all "
                                    f"{len(isr.levels)} handlers nest it needs "
                                    f"{worst.describe()}; the verifier does not know their "
                                    "priorities: give [harden.priorities] (equal priorities do "
                                    "not nest) or nesting_levels")]
    return check, stack_findings(check, "isr-stack-overflow", severity)
