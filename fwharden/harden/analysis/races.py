"""`isr-data-race`: shared variables updated in a way an interrupt can tear (issue 17 item 1).

A handler H writes a global variable V. Code that H can preempt (thread code, or a
handler of lower priority) races with it when, with H not masked, it

- reads and then writes V (a read-modify-write such as `x++`): H's store in between is
  lost; or
- accesses V in more than one memory access: two halves of a 64-bit value, a struct copy,
  two words of V that H writes (LDRD/LDM/VLDR.64 count as several, single-copy atomicity
  being per word: ARM DDI 0403E A3.5.3).

Not races: one aligned load or store of a word or less on its own; LDREX/STREX, AMO and
LR/SC (and calls to the `__atomic_*`/`__sync_*` helpers) are atomic; the fwh_handoff.h
primitives (`fwh_flag_*`, `fwh_ring_*`: one writer per word, by design); handlers of equal
priority (the NVIC does not nest them, B1.5.4); code inside a critical section that masks
H (`cpsid i` ... `cpsie i`, PRIMASK save/restore, BASEPRI at or above H's priority,
mstatus.MIE clear), also when the masking is done by a called function
(`__disable_irq`, `vPortEnterCritical`, `save_and_disable_interrupts`). A RISC-V handler
starts with MIE clear (the trap clears it, privileged spec 3.1.6.1) and can be preempted
only where it sets MIE again.

Accesses and masks come from isa/accesses.py, per function and per the state it is called
in (mask, and the argument registers holding addresses of globals: a pointer to V passed
to a helper is followed into it). What cannot be resolved is not a finding of this rule:
an access through a pointer loaded from memory is not seen (said in the README).
Priorities come from [harden.priorities]; a handler without one is taken to preempt every
other handler (a finding can be false then, never a race missed for that reason).
`[harden.shared]` names variables the project protects in a way the binary does not show.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from dataclasses import dataclass

from fwharden.harden.analysis.arguments import constant_argument
from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.analysis.context import never_returns
from fwharden.harden.analysis.findings import Finding, make_finding
from fwharden.harden.analysis.policy import HardenPolicy, Severity
from fwharden.harden.analysis.priorities import THREAD, Priority, can_preempt
from fwharden.harden.analysis.roots import Root
from fwharden.harden.analysis.rules import base_name
from fwharden.harden.elf.image import Function, Image
from fwharden.harden.elf.variables import Variable, Variables, load_variables
from fwharden.harden.isa.accesses import (
    ARM_ARGS,
    ARM_CALLER_SAVED,
    MASKED,
    RV_ARGS,
    RV_CALLER_SAVED,
    UNMASKED,
    Access,
    Mask,
    MemoryMap,
    Walk,
    body,
    walk,
)

RULE = "isr-data-race"
FIX = ("fix: make the update a critical section (cpsid i/cpsie i or a PRIMASK save/restore, "
       "BASEPRI at or above the handler's priority, csrc mstatus, MIE on RISC-V), an atomic "
       "operation (__atomic builtins, LDREX/STREX, AMO), or hand the data over with "
       "fwh_flag_set/fwh_flag_take or fwh_ring_push/fwh_ring_pop (fwh_handoff.h)")
# Functions whose accesses are race-free by design or atomic: not walked into.
SAFE_PREFIXES = ("fwh_flag_", "fwh_ring_", "__atomic_", "__sync_")
# Functions whose first argument is a task's entry (thread code main() does not call).
TASK_CREATORS = ("xTaskCreate", "xTaskCreateStatic", "osThreadNew", "xTaskCreateAffinitySet")
# Walks of one function with different argument constants before it is walked without.
MAX_VARIANTS = 16

Lookup = Callable[[int], "tuple[str, int] | None"]


@dataclass(frozen=True)
class _Key:
    function: int
    mask: Mask
    args: tuple[tuple[str, int], ...]


@dataclass
class _Result:
    walk: Walk
    children: list[_Key]


class _Contexts:
    """Each function walked once per (entry mask, argument globals); calls are resolved
    from the call graph's edges at the site."""

    def __init__(self, image: Image, graph: CallGraph) -> None:
        self.image, self.graph = image, graph
        self.results: dict[_Key, _Result] = {}
        self.busy: set[_Key] = set()
        self.insns: dict[int, list] = {}
        self.sites: dict[int, dict[int, list[int]]] = {}
        self.written: dict[int, frozenset[str] | None] = {}
        self.arm = image.family == "arm"
        self.variants: dict[int, int] = {}
        self.memory = MemoryMap(image)

    def _callees(self, func: int, site: int) -> list[int] | None:
        if func not in self.graph.edges:
            self.graph.expand([self.graph.function(func)])
        if func not in self.sites:
            by_site: dict[int, list[int]] = {}
            for edge in self.graph.edges.get(func, []):
                by_site.setdefault(edge.site, []).append(edge.callee)
            for call in self.graph.unresolved.get(func, []):
                by_site.setdefault(call.site, []).append(-1)
            self.sites[func] = by_site
        callees = self.sites[func].get(site)
        if callees is None or -1 in callees:
            return None
        return callees

    def _insns(self, address: int):
        if address not in self.insns:
            self.insns[address] = body(self.image, self.graph.function(address))
        return self.insns[address]

    def clobbers(self, address: int, seen: set[int] | None = None) -> frozenset[str] | None:
        """Caller-saved registers the function and its callees may write (GCC's -fipa-ra
        keeps values in the others across the call); None when unknown."""
        if address in self.written:
            return self.written[address]
        seen = set() if seen is None else seen
        if address in seen:
            return None
        seen.add(address)
        saved = ARM_CALLER_SAVED if self.arm else RV_CALLER_SAVED
        if self.graph.unresolved.get(address) or self.graph.unknown_targets.get(address):
            self.written[address] = None
            return None
        names: set[str] = set()
        for insn in self._insns(address).insns:
            for op in insn.ops:
                names.update(w for w in op.replace("{", " ").replace("}", " ").replace(
                    "[", " ").replace("]", " ").replace("(", " ").replace(")", " ")
                    .replace("-", " ").replace("!", " ").split() if w in saved)
            if any(r in insn.text for r in ("r0-", "r1-", "r2-")):
                names.update(saved)
        result: frozenset[str] | None = frozenset(names)
        for edge in self.graph.edges.get(address, []):
            inner = self.clobbers(edge.callee, seen)
            if inner is None:
                result = None
                break
            result = result | inner
        self.written[address] = result
        return result

    def run(self, key: _Key) -> _Result:
        if key in self.results:
            return self.results[key]
        func = self.graph.function(key.function)
        children: list[_Key] = []

        def on_call(site: int, mask: Mask, args: dict[str, int], tail: bool):
            callees = self._callees(key.function, site)
            if callees is None:
                return UNMASKED, None
            after: Mask | None = None
            clobbered: frozenset[str] | None = frozenset()
            for callee in callees:
                exit_mask = mask
                callee_func = self.graph.function(callee)
                if not any(base_name(n).startswith(SAFE_PREFIXES) for n in callee_func.names):
                    child = _Key(callee, mask, tuple(sorted(args.items())))
                    if child not in self.results:
                        # Constants in argument registers (a global's address, a BASEPRI
                        # value) are followed into the callee, up to a few variants each.
                        count = self.variants.get(callee, 0)
                        if count >= MAX_VARIANTS:
                            child = _Key(callee, mask, ())
                        else:
                            self.variants[callee] = count + 1
                    if child in self.busy:
                        exit_mask = UNMASKED   # recursion: the mask it returns with is unknown
                    else:
                        children.append(child)
                        exit_mask = self.run(child).walk.exit_mask
                inner = self.clobbers(callee)
                clobbered = None if inner is None or clobbered is None else clobbered | inner
                if exit_mask is not None:
                    after = exit_mask if after is None else after.meet(exit_mask)
            return after, clobbered

        self.busy.add(key)
        try:
            result = walk(self.image, func, key.mask, dict(key.args), on_call,
                          self._insns(key.function), self.memory)
        finally:
            self.busy.discard(key)
        self.results[key] = _Result(result, children)
        return self.results[key]

    def reached(self, key: _Key) -> list[_Key]:
        out, todo, seen = [], [key], set()
        while todo:
            k = todo.pop()
            if k in seen:
                continue
            seen.add(k)
            out.append(k)
            todo.extend(self.results[k].children)
        return out


@dataclass(frozen=True)
class _Context:
    """A root of execution: the thread, or one handler with its priority (priorities.py)."""

    name: str
    function: Function
    priority: Priority

    @property
    def thread(self) -> bool:
        return self.priority.scheme == "thread"

    @property
    def fixed(self) -> bool:
        """NMI or HardFault: above every configurable priority, not masked by PRIMASK."""
        return self.priority.scheme == "arm" and self.priority.level is not None and \
            self.priority.level < 0

    def label(self) -> str:
        if self.thread:
            return f"thread code (from {self.name})"
        level = self.priority.level
        return f"{self.name} (priority {'unknown' if level is None else level})"


def check_races(image: Image, graph: CallGraph, roots: list[Root], thread: Root | None,
                policy: HardenPolicy, priorities: dict[str, Priority],
                priority_bits: int | None, severity: dict[str, Severity],
                lookup: Lookup) -> list[Finding]:
    """Findings of the isr-data-race rule (see the module docstring), and the
    `[harden.shared]` notes and unused-key warnings. `priorities` are each root's
    preemption priority (priorities.find_priorities)."""
    contexts = _Contexts(image, graph)
    actors: list[_Context] = []
    if thread is not None:
        actors.append(_Context(thread.name, thread.function, THREAD))
    for name in policy.thread_context:
        func = image.function_named(name)
        if func is not None and (thread is None or func.address != thread.function.address):
            actors.append(_Context(name, func, THREAD))
    known = {a.function.address for a in actors}
    for task in _tasks(image, graph):
        if task.address not in known:
            known.add(task.address)
            actors.append(_Context(task.name, task, THREAD))
    for root in roots:
        actors.append(_Context(root.name, root.function, priorities.get(
            root.name, Priority(None, "not found"))))
    # Entry masks: thread code starts unmasked (PRIMASK 0 and MIE 0 at reset, but start-up
    # enables them somewhere the walk may not see: unmasked is the safe side); ARM handlers
    # run with PRIMASK clear (else they were not taken); RISC-V ones with MIE clear.
    walks: dict[str, list[_Key]] = {}
    for actor in actors:
        entry = MASKED if (image.family == "riscv" and not actor.thread) else UNMASKED
        key = _Key(actor.function.address, entry, ())
        contexts.run(key)
        walks[actor.name] = contexts.reached(key)
    # NMI and HardFault (fixed priority) are the fault and crash-report paths: they print
    # through the console the thread uses and do not return to it in practice, and
    # nothing can mask them; their races are not judged (README), neither way.
    actors = [a for a in actors if not a.fixed]
    writers = [a for a in actors if not a.thread
               and not never_returns(graph, a.function.address)]
    shared = dict(policy.shared)
    overridden = dict(policy.severity)
    findings: list[Finding] = []
    symbols = _SymbolVars(image, contexts.memory)
    variables: list[Variables] = []   # DWARF names, read only when there is a finding

    def names() -> Variables:
        if not variables:
            variables.append(load_variables(image))
        return variables[0]

    used_shared: set[str] = set()
    seen: set[tuple] = set()
    for writer in writers:
        stores = _writes(contexts, walks[writer.name], symbols)
        if not stores:
            continue
        for victim in actors:
            if victim.name == writer.name or not _may_preempt(writer, victim, image.family):
                continue
            for key in walks[victim.name]:
                result = contexts.results[key].walk
                for problem in _victim_problems(result, stores, writer, priority_bits, symbols):
                    kind, var, sites, wsite, address, width = problem
                    # One finding per handler, variable, function and kind: the same
                    # update reached in several call contexts, or read at two sites of
                    # one function, is one thing to fix.
                    dedupe = (writer.name, var.name, key.function, kind)
                    if dedupe in seen:
                        continue
                    seen.add(dedupe)
                    named = names().at(address) or var
                    part = named.part(address, width) if kind == "rmw" else named.name
                    top = named.name
                    func = graph.function(key.function)
                    if top in shared or part in shared:
                        used_shared.add(top if top in shared else part)
                        findings.append(make_finding(
                            "shared", severity, f"{part}: {_what(kind)} in {func.name} "
                            f"({victim.label()}) while {writer.label()} writes it: accepted by "
                            f"[harden.shared] ({shared.get(top, shared.get(part))})",
                            root=writer.name, path=(victim.name, func.name), callee=func.name,
                            site=sites[0]))
                        continue
                    where = ", ".join(_at(s, lookup) for s in sites)
                    writing = image.function_at(wsite)
                    inside = (f" (in {writing.name})" if writing is not None
                              and writing.name != writer.name else "")
                    message = (f"{part}: {_what(kind)} by {func.name} at {where}, in "
                               f"{victim.label()}, with {writer.name} not masked; "
                               f"{writer.label()} writes it at {_at(wsite, lookup)}{inside}")
                    mask = dict(result.masks).get(sites[0])
                    level = severity
                    if mask is not None and mask.basepri and writer.priority.level is None:
                        message += ("; BASEPRI is raised there, but the handler's priority "
                                    "is not known, so it is not counted as masked: give it "
                                    "in [harden.priorities]")
                        if RULE not in overridden:
                            # A BASEPRI section (FreeRTOS's taskENTER_CRITICAL) that holds
                            # off every handler at or below configMAX_SYSCALL_INTERRUPT_
                            # PRIORITY: the race needs a priority the code did not show, so
                            # it is a warning, as for handlers assumed to nest.
                            level = {**severity, RULE: "warning"}
                    if _unsure(writer, victim, image.family) and RULE not in overridden:
                        # Nesting assumed, not shown: said as a warning, never silence.
                        level = {**severity, RULE: "warning"}
                        message += ("; the two priorities are not known, so the handlers "
                                    "are assumed to nest: give them in [harden.priorities]")
                    findings.append(make_finding(
                        RULE, level, message, root=writer.name,
                        path=(victim.name, func.name) if victim.name != func.name
                        else (func.name,), callee=func.name, site=sites[0]))
    for name in shared:
        if name not in used_shared and names().named(name.split(".")[0].split("[")[0]) is None:
            findings.append(make_finding(
                    "unused-setting", severity, f"[harden.shared] {name}: the ELF has no "
                    "such variable"))
    return findings


def _tasks(image: Image, graph: CallGraph) -> list[Function]:
    """RTOS task functions: the constant first argument of xTaskCreate/xTaskCreateStatic
    (FreeRTOS) and osThreadNew (CMSIS-RTOS2) at every call the graph holds. A task runs in
    thread mode, preempted by every interrupt, and main() never calls it."""
    creators = {f.address for name in TASK_CREATORS
                if (f := image.function_named(name)) is not None}
    found: dict[int, Function] = {}
    for caller, edges in list(graph.edges.items()):
        for edge in edges:
            if edge.callee not in creators:
                continue
            value = constant_argument(image, graph.function(caller), edge.site, 0)
            func = image.function_at(value & ~1) if value else None
            if func is not None and func.address == value & ~1:
                found.setdefault(func.address, func)
    tasks = list(found.values())
    graph.expand(tasks)
    return tasks


def _what(kind: str) -> str:
    return {"rmw": "read-modify-written", "multi": "accessed in more than one memory access"}[
        kind]


def _at(site: int, lookup: Lookup) -> str:
    where = lookup(site)
    return f"0x{site:08x} ({where[0]}:{where[1]})" if where else f"0x{site:08x}"


class _SymbolVars:
    """Variable extents from the symbol table (cheap; DWARF is read only for names)."""

    def __init__(self, image: Image, memory: MemoryMap) -> None:
        self.image, self.memory = image, memory
        self.items = sorted(image.data_symbols, key=lambda d: d.address)
        self.starts = [d.address for d in self.items]
        self.cache: dict[int, Variable | None] = {}

    def at(self, address: int) -> Variable | None:
        if address in self.cache:
            return self.cache[address]
        index = bisect.bisect_right(self.starts, address) - 1
        var = None
        if index >= 0:
            sym = self.items[index]
            if sym.address <= address < sym.address + max(sym.size, 1):
                var = Variable(sym.name, sym.address, sym.size)
        if var is not None and not self.memory.is_global(address):
            var = None     # a constant table in flash: never written by anyone
        if var is None and self.memory.is_global(address):
            var = Variable(f"0x{address:08x}", address, 4)
        self.cache[address] = var
        return var


def _writes(contexts: _Contexts, keys: list[_Key], symbols: _SymbolVars):
    """(lo, hi, site) of every store of the writer to a global."""
    out = []
    for key in keys:
        for access in contexts.results[key].walk.accesses:
            if access.kind != "store" or access.address is None:
                continue
            var = symbols.at(access.address)
            if var is None:
                continue
            if access.indexed:
                out.append((var.address, var.end, access.site))
            else:
                out.append((access.address, access.address + access.width, access.site))
    return out


def _may_preempt(writer: _Context, victim: _Context, family: str) -> bool:
    """Whether `writer` can interrupt `victim` by priority alone (masks are per site)."""
    if family == "riscv" and "eclic" not in (writer.priority.scheme, victim.priority.scheme):
        return True     # CLINT/PLIC: a handler nests only where it set MIE; the mask decides
    return can_preempt(writer.priority, victim.priority)


def _unsure(writer: _Context, victim: _Context, family: str) -> bool:
    """Whether the writer preempts the victim handler only by assumption (a priority not
    known); the thread is always preempted, and RISC-V's MIE is read from the code."""
    if victim.thread or (family == "riscv" and victim.priority.scheme != "eclic"):
        return False
    return writer.priority.level is None or victim.priority.level is None


def _blocks(mask: Mask, writer: _Context, priority_bits: int | None) -> bool:
    """Whether `mask` holds `writer` off. BASEPRI compares with the priority byte; a
    group priority `level` is taken as `level << (8 - priority bits)`, which is the byte
    when every implemented bit is group priority (HAL's NVIC_PRIORITYGROUP_4) and below
    it otherwise, so BASEPRI is never credited with masking more than it does."""
    if writer.fixed:
        return False          # NMI and HardFault are not masked by PRIMASK or BASEPRI
    if mask.all:
        return True
    level = writer.priority.level
    if mask.basepri and level is not None and priority_bits and \
            writer.priority.scheme == "arm":
        # BASEPRI implements only the top `priority_bits` bits; the others read as zero
        # (ARMv7-M B1.4.3, B3.4.9), and BASEPRI 0 masks nothing. FreeRTOS's MPS2 QEMU demo
        # sets configMAX_SYSCALL_INTERRUPT_PRIORITY = 4 "as QEMU doesn't model the priority
        # bits": on a part with 3 bits its critical sections mask no interrupt.
        effective = mask.basepri & (0xFF << (8 - priority_bits)) & 0xFF
        return effective != 0 and (level << (8 - priority_bits)) >= effective
    return False


def _overlap(lo: int, hi: int, stores) -> int | None:
    for slo, shi, site in stores:
        if slo < hi and lo < shi:
            return site
    return None


def _victim_problems(result: Walk, stores, writer: _Context, priority_bits: int | None,
                     symbols: _SymbolVars):
    """(kind, variable, victim sites, writer site, address, width) per race in one walk."""
    addresses = [a for a, _m in result.masks]
    open_at = [not _blocks(m, writer, priority_bits) for _a, m in result.masks]

    def window_open(lo: int, hi: int) -> bool:
        i = bisect.bisect_left(addresses, lo)
        j = bisect.bisect_right(addresses, hi)
        return any(open_at[i:j])

    plain = [a for a in result.accesses if a.address is not None and not a.atomic]
    loads = [a for a in plain if a.kind == "load"]
    stores_v = [a for a in plain if a.kind == "store"]
    # Read-modify-write: a load, later a store to the same bytes, with the writer able to
    # run somewhere from the load to the store.
    for load in loads:
        lo, hi = _range(load, symbols)
        wsite = _overlap(lo, hi, stores)
        if wsite is None:
            continue
        for store in stores_v:
            if store.site <= load.site:
                continue
            slo, shi = _range(store, symbols)
            if store.indexed != load.indexed or not (slo < hi and lo < shi):
                continue
            if window_open(load.site, store.site):
                var = symbols.at(load.address)
                if var is not None:
                    yield ("rmw", var, (load.site, store.site), wsite, load.address,
                           load.width)
                break
    # More than one access: parts of one variable that the writer writes, touched
    # separately (an unmasked part each) in one walk.
    by_var: dict[str, tuple[Variable, set, list]] = {}
    mask_at = dict(result.masks)
    for access in plain:
        mask = mask_at.get(access.site)
        if mask is None or _blocks(mask, writer, priority_bits):
            continue
        var = symbols.at(access.address)
        if var is None or access.indexed:
            continue
        if access.kind == "store" and var.size > 8:
            # Of a larger aggregate only reads tear (the thread sees half an update);
            # stores count for a 64-bit value or a two-word pair, which is one value.
            continue
        step = access.width // access.parts
        for n in range(access.parts):
            lo = access.address + n * step
            wsite = _overlap(lo, lo + step, stores)
            if wsite is None or not (var.address <= lo < var.end):
                continue
            entry = by_var.setdefault(var.name, (var, set(), []))
            entry[1].add((lo, step))
            entry[2].append((access.site, wsite))
    for var, parts, sites in by_var.values():
        if len(parts) >= 2:
            victim_sites = tuple(dict.fromkeys(s for s, _w in sites))
            yield ("multi", var, victim_sites[:4], sites[0][1], var.address, var.size)


def _range(access: Access, symbols: _SymbolVars) -> tuple[int, int]:
    if access.indexed:
        var = symbols.at(access.address)
        if var is not None:
            return var.address, var.end
    return access.address, access.address + access.width


__all__ = ["check_races", "RULE", "ARM_ARGS", "RV_ARGS"]
