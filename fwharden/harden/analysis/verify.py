"""`fwharden verify`: from an ELF to findings and stack bounds, one typed stage at a time.

image -> roots (roots.py; handlers installed at run time: installed.py) -> call graph
(callgraph.py) -> library models (models.py) -> frames (frames.py, bounds.py) -> what each
root reaches (reach.py) -> SP switches placed on the stack they use (stackswitch.py) ->
per-handler bounds and the interrupt/thread/other stack checks with preemption (stacks.py)
-> VerifyResult. This module only runs the stages in order and assembles the result;
nothing here prints or reads TOML.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fwharden.board_profiles import Profile
from fwharden.harden.analysis.arguments import constant_argument
from fwharden.harden.analysis.bounds import (
    Bound,
    compute_depths,
    function_frames,
    stack_switches,
)
from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.analysis.context import FAULT_RELAXED, never_returns
from fwharden.harden.analysis.findings import DEFAULT_SEVERITY, Finding, make_finding, sort_key
from fwharden.harden.analysis.frames import FrameSize
from fwharden.harden.analysis.indirect import (
    IndirectCall,
    address_taken,
    apply_handler_keys,
    resolved_calls,
    resolver_for,
    unused_keys,
)
from fwharden.harden.analysis.installed import RunTime, chain_frame, runtime_roots
from fwharden.harden.analysis.isa_check import check_isa
from fwharden.harden.analysis.models import apply_models, argument_rules, unregistered_callbacks
from fwharden.harden.analysis.policy import HardenPolicy, Severity
from fwharden.harden.analysis.priorities import Priority, find_priorities
from fwharden.harden.analysis.races import check_races
from fwharden.harden.analysis.reach import root_findings, thread_recursion, thread_unproven
from fwharden.harden.analysis.roots import RUNTIME_VECTOR, Root, VectorTable, find_roots
from fwharden.harden.analysis.rules import rule_set
from fwharden.harden.analysis.stack_symbols import vendor_stack
from fwharden.harden.analysis.stacks import (
    InterruptReport,
    StackCheck,
    StackLevel,
    interrupt_report,
    isr_stack,
    other_stack_checks,
    stack_findings,
    thread_stack,
    vendor_check,
)
from fwharden.harden.analysis.stackswitch import place_switches
from fwharden.harden.analysis.uninstalled import REASON as UNINSTALLED_REASON
from fwharden.harden.analysis.uninstalled import TITLE as UNINSTALLED_TITLE
from fwharden.harden.analysis.uninstalled import check_image
from fwharden.harden.elf.image import Family, Image
from fwharden.harden.elf.lines import LineTable
from fwharden.harden.errors import HardenError

Verdict = Literal["pass", "fail"]


@dataclass(frozen=True)
class VerifyResult:
    """Everything verify proved, and every finding it could not prove away."""

    elf: str
    family: Family
    board: str | None
    table: VectorTable
    interrupts: tuple[InterruptReport, ...]
    findings: tuple[Finding, ...]
    isr_stack: StackCheck
    thread_stack: StackCheck | None
    functions_analysed: int
    instructions: int
    # Stacks handlers switch to other than the interrupt stack (a fault stack).
    other_stacks: tuple[StackCheck, ...] = ()
    notes: tuple[str, ...] = ()   # what the root search accepted or skipped, said aloud
    # Indirect calls resolved (decoder, [harden.indirect], or analysis/pointers.py) and how.
    indirect_calls: tuple[IndirectCall, ...] = ()

    def priority_of(self, name: str) -> Priority | None:
        """The preemption priority of the root `name` (priorities.can_preempt compares)."""
        return next((i.priority for i in self.interrupts
                     if name == i.name or name in i.aliases), None)

    @property
    def verdict(self) -> Verdict:
        """"fail" when any finding is an error; the build's decision is `should_fail`."""
        return "fail" if any(f.severity == "error" for f in self.findings) else "pass"


def verify(image: Image, profile: Profile | None, policy: HardenPolicy,
           stack_usage: dict[str, FrameSize], objects: Sequence[Path] = (),
           cache: object = None) -> VerifyResult:
    """Run every check on `image`; `objects` are the build's object files, whose build
    attributes the ISA check reads too (isa_check.py); `cache`: a decode_cache.DecodeCache
    of earlier runs (the result is the same with or without it)."""
    if profile is not None and profile.cpu.family != image.family:
        raise HardenError(f"{image.path}: a {image.family.upper()} firmware cannot be checked "
                          f"against board {profile.name} ({profile.cpu.arch}); fix: pass the "
                          "board it was built for")
    table = find_roots(image, profile, policy.thread_context)
    # Vector-table words are read by the hardware, not loaded by code: no pointer tables.
    vectors = ((table.address, table.address + 4 * table.entries),) if table.entries else ()
    graph = CallGraph(image, indirect=dict(policy.indirect), cache=cache,
                      resolver=resolver_for(image, vectors))
    roots = list(table.roots)
    graph.expand([r.function for r in roots] + ([table.thread.function] if table.thread else []))
    runtime = _add_runtime_roots(image, graph, table, roots)
    handler_keys = apply_handler_keys(graph, [r.function for r in roots])
    models = apply_models(image, graph, dict(policy.recursion))
    _apply_callbacks(image, graph, models)
    rules = rule_set(policy.forbid, policy.allow)
    allowed = {a: hit for a in graph.edges
               if (hit := rules.allowed_as(graph.function(a).names)) is not None}
    frames = function_frames(graph, stack_usage)
    frames.update({a: f for a, f in models.frames.items() if frames[a].source != ".su"})
    declared = dict(policy.allow_stack)
    for address, (name, _reason) in allowed.items():
        if name in declared:
            # `stack = N`: the project states what the allowed function uses with all it
            # calls; the verifier stops there for the stack too.
            graph.edges[address] = []
            graph.unresolved[address] = []
            graph.unknown_targets[address] = []
            frames[address] = FrameSize(max(declared[name], 0), True, "[harden.allow] stack")
    depths = compute_depths(graph, frames, models.cycle_depth)
    placed = place_switches(image, graph, depths, stack_switches(graph, frames, depths),
                            [(r.name, r.function.address) for r in roots])
    chained = {f.function.address for f in runtime.roots if f.chained}
    if chained:
        # A handler of pico-sdk's shared chain runs below the chain entry's frame.
        below = Bound(chain_frame(image), "exact")
        for root in roots:
            if root.function.address in chained:
                placed.extra[root.name] = placed.extra.get(root.name, Bound(0, "exact")).plus(below)
    severity: dict[str, Severity] = {**DEFAULT_SEVERITY, **dict(policy.severity)}

    findings = [make_finding("config", severity, message) for message in graph.config_errors]
    if table.missing and not runtime.roots:
        findings.append(make_finding("roots", severity, f"{image.path}: {'; '.join(table.notes)}"))
    for problem in runtime.problems:
        findings.append(make_finding("vector-moved", severity,
                                     f"{problem.function}: {problem.message}",
                                     path=(problem.function,), site=problem.site))
    # Code built for another core than the board's, and soft-float on an FPU (isa_check.py).
    for problem in check_isa(image, profile, objects):
        findings.append(make_finding(problem.rule, severity, problem.message,
                                     path=(problem.function,) if problem.function else (),
                                     callee=problem.function, site=problem.site))
    for message in unused_keys(graph, [r.function for r in roots], handler_keys):
        findings.append(make_finding("unused-setting", severity, message))
    # Vector-table words are addresses too; handlers and the reset entry are no callbacks.
    entries = {r.function.address for r in roots} | (
        {table.thread.function.address} if table.thread else set())
    candidates = [f for f in (address_taken(image) if any(graph.unresolved.values()) else [])
                  if f.address not in entries]
    for message in models.warnings:
        findings.append(make_finding("unused-setting", severity, message))
    for key in models.unused_keys():
        findings.append(make_finding("unused-setting", severity,
                                     f"[harden.recursion] {key}: no recursive cycle reachable "
                                     "from a root runs through it"))
    for message in dict.fromkeys(models.notes):
        findings.append(make_finding("library-model", severity, message))
    if table.thread is not None:
        findings.extend(thread_recursion(graph, depths, table.thread.function.address,
                                         table.thread.name, severity))
        findings.extend(thread_unproven(graph, frames, table.thread.function.address,
                                        table.thread.name, severity))
    # The allowed functions where a walk from an interrupt root stops (not those only
    # reached through another allowed one, like puts -> _puts_r).
    in_interrupts: set[int] = set()
    todo = [r.function.address for r in roots]
    while todo:
        node = todo.pop()
        if node in in_interrupts:
            continue
        in_interrupts.add(node)
        if node not in allowed:
            todo.extend(e.callee for e in graph.edges.get(node, []))
    for address, (name, reason) in sorted(allowed.items()):
        if address not in in_interrupts:
            continue
        stack = (f"counts {declared[name]} B for it and all it calls ([harden.allow] stack)"
                 if name in declared else "its stack, and its callees', still count")
        function = graph.function(address).name
        findings.append(make_finding("allowed", severity,
                                     f"{function}: allowed by [harden.allow] {name} "
                                     f"({reason}); the walk stops there, {stack}",
                                     callee=function))
    checks = argument_rules(graph)

    def argument_check(edge: Edge) -> tuple[bool, str]:
        """Whether the constant argument at this call makes the callee fine (models)."""
        rule, model = checks[edge.callee]
        value = constant_argument(image, graph.function(edge.caller), edge.site, rule.index)
        shown = ("unknown (not a constant at the call)" if value is None
                 else f"{value}" if value < 0x10000 else f"0x{value:08x}")
        if rule.allows(value):
            return True, (f"{graph.function(edge.caller).name} calls {rule.function} at "
                          f"0x{edge.site:08x} with {rule.parameter} = {shown}: allowed by "
                          f"library model {model.name}: {rule.why}")
        return False, f"; {rule.parameter} = {shown} at the call"
    arguments = {address: argument_check for address in checks}
    # Which rule (if any) each function breaks, decided once for all roots.
    verdicts = {address: rules.match(graph.function(address).names) for address in graph.edges}
    # One finding per root and site, never de-duplicated across roots: when EXTI0, EXTI2 and
    # TIM6 reach iprintf through one shared error handler, each of them is unsafe and each
    # gets its own finding with its own path (a report listing only the first would make
    # the others look clean). Handlers come before the RISC-V trap entry, which reaches the
    # same sites again through its dispatch.
    fault_named = {n for m in models.models for n in m.fault_handlers}
    overridden = dict(policy.severity)
    # A model's crash paths stop the walk like [harden.allow] (their stack still counts).
    crash = {a: (n, "crash path") for a in graph.edges for n in graph.function(a).names
             if any(n in m.crash_paths for m in models.models)}
    for root in sorted(roots, key=lambda r: r.kind == "trap-entry"):
        seen_sites: set[tuple[str, str | None, int | None]] = set()
        fault = (bool(fault_named & set(root.function.names))
                 or never_returns(graph, root.function.address))
        for finding in root_findings(graph, depths, frames, root, verdicts, severity,
                                     {**allowed, **crash}, arguments, candidates):
            if (fault and finding.rule in FAULT_RELAXED and finding.severity == "error"
                    and finding.rule not in overridden):
                # Fault context (context.py): the handler never returns, so a fault
                # report may print; allocation and blocking stay errors.
                finding = dataclasses.replace(
                    finding, severity="warning",
                    message=f"{finding.message} (fault context: {root.name} never returns, "
                            "so printing a fault report there is a warning)")
            key = (finding.rule, finding.callee, finding.site)
            if key not in seen_sites:
                seen_sites.add(key)
                findings.append(finding)

    # Handlers named like a vector that the table does not install (uninstalled.py).
    for miss in check_image(image, profile, table, graph, roots):
        findings.append(Finding(
            rule="uninstalled-handler", severity=severity.get("uninstalled-handler", "error"),
            title=UNINSTALLED_TITLE, reason=UNINSTALLED_REASON, root=miss.name, path=(miss.name,),
            callee=miss.name, site=miss.address, message=miss.message, file=miss.file,
            line=miss.line))
    # Each root's preemption priority from the code (priorities.py): only handlers that
    # can preempt each other stack up.
    priorities = find_priorities(image, graph, roots, policy, profile,
                                 table.thread.function if table.thread else None)
    interrupts = tuple(dataclasses.replace(
        interrupt_report(table, graph, depths, frames, root, placed),
        priority=priorities.get(root.name)) for root in roots)
    for root in roots:
        for why in placed.unproven.get(root.name, []):
            findings.append(make_finding("stack-unproven", severity, f"{root.name}: {why}",
                                         root=root.name, path=(root.name,)))
    isr = isr_stack(image, profile, policy, interrupts)
    thread = thread_stack(image, profile, table, graph, frames, depths)
    if thread is not None and _reset_on_isr_stack(image):
        # The reset code starts on the interrupt stack and stays there (TinyGo: its
        # scheduler runs on _stack_top, goroutines on heap stacks): the thread code's
        # depth is on that stack under every interrupt, and the thread stack is unused.
        (level,) = thread.levels
        isr = StackCheck(isr.name, isr.size, isr.worst_case.plus(level.handler),
                         (StackLevel(f"{level.label} (thread code on this stack)",
                                     level.handler, 0), *isr.levels))
        thread = None
    if thread is not None and image.family == "riscv" and None not in (isr.size, thread.size):
        thread = _traps_on_thread_stack(graph, policy, thread, interrupts)
    others = other_stack_checks(placed)
    vendor = (vendor_stack(image) if isr.size is None and (thread is None or thread.size is None)
              else None)
    for check, rule in ((isr, "isr-stack-overflow"), (thread, "thread-stack-overflow"),
                        *((o, "isr-stack-overflow") for o in others)):
        if check is not None:
            findings.extend(stack_findings(check, rule, severity))
    if vendor is not None:
        # No fwharden layout: main() and every handler share the one stack the vendor
        # script reserves (stack_symbols.py), so both worst cases must fit in it together.
        vendor_stack_check, found = vendor_check(vendor.size, vendor.source, isr, thread,
                                                 severity)
        others = (*others, vendor_stack_check)
        findings.extend(found)
    for other in others:
        if other.size is None:
            findings.append(make_finding(
                "stack-unproven", severity, f"{other.name}: worst case "
                f"{other.worst_case.describe()}, but the stack's size is not in the symbol "
                "table, so it cannot be checked"))
    # Shared variables an interrupt can tear (races.py), with both sites' file:line.
    findings.extend(check_races(image, graph, roots, table.thread, policy, priorities,
                                profile.interrupts.priority_bits if profile else None,
                                severity, _line_lookup(image)))
    findings = _fault_context(findings, models.models)
    findings.sort(key=sort_key)
    instructions = sum(d.instructions for d in graph.decoded.values())
    return VerifyResult(elf=str(image.path), family=image.family,
                        board=profile.name if profile else None, table=table,
                        interrupts=interrupts, findings=tuple(findings), isr_stack=isr,
                        thread_stack=thread, functions_analysed=len(graph.decoded),
                        instructions=instructions, other_stacks=others,
                        notes=tuple(table.notes) + tuple(runtime.notes),
                        indirect_calls=resolved_calls(graph))


def _line_lookup(image: Image):
    """file:line of an address for a message; None without DWARF. Damaged DWARF is the
    HardenError every other lookup of verify raises (one line, exit 2), not a quiet None."""
    table: list[LineTable] = []

    def lookup(address: int) -> tuple[str, int] | None:
        if not table:
            table.append(LineTable.of(image))
        return table[0].lookup(address)
    return lookup


def _apply_callbacks(image: Image, graph: CallGraph, models) -> None:
    """A library handler's guarded callback call, with nothing in the ELF that registers a
    callback, never runs: its indirect sites are not unresolved (models.py `[[callback]]`)."""
    for callback in unregistered_callbacks(image, models.models):
        func = image.function_named(callback.function)
        if func is not None and graph.unresolved.get(func.address):
            count = len(graph.unresolved[func.address])
            graph.unresolved[func.address] = []
            models.notes.append(
                f"{callback.function}: {count} indirect call(s) never run: nothing registers a "
                f"callback ({', '.join(callback.registered_by)} is not in the ELF, symbol or "
                f"DWARF); {callback.why}")


def _fault_context(findings: list[Finding], models) -> list[Finding]:
    """Rule findings on a path through a model's fault handler (code that runs only once
    the program has failed, then aborts) are warnings, saying why."""
    handlers = {h: m.name for m in models for h in m.fault_handlers}
    out = []
    for finding in findings:
        # A root that is a fault handler is relaxed in the walk already; this is for one
        # called on the way (RISC-V: the trap entry calls runtime.handleException).
        where = next((n for n in finding.path[1:] if n in handlers), None)
        if where is None or finding.severity != "error" or finding.rule not in FAULT_RELAXED:
            out.append(finding)
            continue
        out.append(dataclasses.replace(
            finding, severity="warning",
            reason=f"{finding.reason} (fault context: {where} runs only after a fault and "
                   f"aborts; library model {handlers[where]})"))
    return out


def _traps_on_thread_stack(graph: CallGraph, policy: HardenPolicy, thread: StackCheck,
                           interrupts: tuple[InterruptReport, ...]) -> StackCheck:
    """A RISC-V trap entry that never moves sp (no `csrrw sp, mscratch, sp`, no `la sp`)
    runs on the stack it interrupts: the hardware switches nothing on a trap (privileged
    spec 3.1.7), so under thread code that is the thread stack, which must hold the deepest
    such entry as well (once per nesting level)."""
    stay = [i for i in interrupts if i.kind == "trap-entry"
            and not graph.decoded[i.address].mscratch_swap
            and not graph.decoded[i.address].switches]
    if not stay:
        return thread
    deepest = max(stay, key=lambda i: i.stack.rank())
    level = StackLevel(f"{deepest.name} (trap entry that keeps sp: runs on the interrupted "
                       "stack)", deepest.stack, 0)
    levels = [level] * (policy.nesting_levels or 1)
    worst = thread.worst_case
    for item in levels:
        worst = worst.plus(item.handler)
    return StackCheck(thread.name, thread.size, worst, (*thread.levels, *levels))


def _reset_on_isr_stack(image: Image) -> bool:
    """The reset code stays on the interrupt stack: TinyGo's start-up runs its scheduler on
    `_stack_top` (vector word 0 on ARM, device/riscv/start.S on RISC-V), which the TinyGo
    mode of the linker script makes the interrupt stack's top. fwharden's own start-up
    switches to the thread stack, and defines no `_stack_top`."""
    top = image.symbols.get("__fwh_isr_stack_end")
    return top is not None and image.symbols.get("_stack_top") == top


def _add_runtime_roots(image: Image, graph: CallGraph, table: VectorTable,
                       roots: list[Root]) -> RunTime:
    """Handlers installed at run time (installed.py) join `roots`; the code they reach is
    decoded too, and may install more (a fixed point, at most a few rounds)."""
    known = {r.function.address for r in roots}
    if table.thread is not None:
        known.add(table.thread.function.address)
    runtime = RunTime((), (), ())
    for _round in range(4):
        runtime = runtime_roots(image, graph, table.entries)
        new = [found for found in runtime.roots if found.function.address not in known]
        if not new:
            break
        for found in new:
            known.add(found.function.address)
            irq = (16 + found.irq,) if found.irq is not None and image.family == "arm" else ()
            roots.append(Root(found.function, (RUNTIME_VECTOR, *irq),
                              "trap-entry" if found.trap_entry else "handler"))
        graph.expand([found.function for found in new])
    return runtime
