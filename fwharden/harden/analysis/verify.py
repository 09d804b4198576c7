"""`fwharden verify`: from an ELF to findings and stack bounds, one typed stage at a time.

image -> roots (vectors.py) -> call graph (callgraph.py) -> frames (frames.py, bounds.py)
-> forbidden calls, indirect calls, recursion -> per-handler bounds -> interrupt-stack
worst case with preemption -> VerifyResult. Nothing here prints or reads TOML.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from fwharden.board_profiles import Profile
from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.arguments import constant_argument
from fwharden.harden.analysis.bounds import (
    AT_LEAST,
    EXACT,
    UNBOUNDED,
    Bound,
    Depths,
    compute_depths,
    deepest_path,
    function_frames,
    stack_switches,
    switched_root_depth,
)
from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.analysis.frames import FrameSize
from fwharden.harden.analysis.indirect import (
    address_taken,
    apply_handler_keys,
    snippet,
    unused_keys,
)
from fwharden.harden.analysis.installed import RunTime, runtime_roots
from fwharden.harden.analysis.models import (
    apply_models,
    argument_rules,
    describe_cycle,
    recursion_fix,
)
from fwharden.harden.analysis.roots import (
    RUNTIME_VECTOR,
    Root,
    VectorTable,
    find_roots,
    vector_label,
)
from fwharden.harden.analysis.rules import rule_set
from fwharden.harden.analysis.stack_symbols import vendor_stack
from fwharden.harden.analysis.stackswitch import SwitchResult, place_switches
from fwharden.harden.analysis.uninstalled import REASON as UNINSTALLED_REASON
from fwharden.harden.analysis.uninstalled import TITLE as UNINSTALLED_TITLE
from fwharden.harden.analysis.uninstalled import check_image
from fwharden.harden.elf.image import Image
from fwharden.harden.errors import HardenError

# Exception entry pushes 8 words, 26 with the FP context (ARM DDI 0403E B1.5.7); with
# CCR.STKALIGN the core may add one padding word to 8-align the frame.
ARM_FRAME, ARM_FP_FRAME, ARM_ALIGN_PAD = 32, 104, 4
ARM_FIXED_PRIORITY = {2: "NMI", 3: "HardFault"}

RULE_TEXT = {
    "indirect-call": ("unresolved indirect call",
                      "the verifier cannot see where this call goes, so it cannot prove the "
                      "handler safe; list the possible targets in [harden.indirect]"),
    "recursion": ("recursion", "a recursive call chain has no static stack bound"),
    "isr-stack-overflow": ("interrupt stack overflow",
                           "the worst case with nesting does not fit the interrupt stack the "
                           "linker script reserved"),
    "thread-stack-overflow": ("thread stack overflow",
                              "main's worst case plus one exception frame does not fit the "
                              "thread stack"),
    "stack-unproven": ("stack bound not proven",
                       "part of the call chain has no static frame size, so the bound is only "
                       "a minimum"),
    "dynamic-stack": ("dynamic stack frame",
                      "the function moves SP by a run-time amount (alloca, VLA); its frame "
                      "is only a minimum"),
    "undecodable": ("instruction not decoded",
                    "bytes inside a function were not decoded as instructions; calls there "
                    "are not seen"),
    "unknown-target": ("call into unknown code",
                       "the call target is not inside any function of the symbol table"),
    "config": ("configuration does not match the ELF", "fix firmware.toml [harden]"),
    "roots": ("interrupt roots not found",
              "the verifier could not find the vector table or trap entry, so it cannot tell "
              "what runs in interrupt context; nothing is proven"),
    "vector-moved": ("vector table moved at run time",
                     "the code installs a vector table or trap entry at an address the "
                     "verifier cannot follow, so the handlers it holds are not checked"),
    "unused-setting": ("firmware.toml setting matches nothing",
                       "a [harden] key names nothing the verifier met in this ELF"),
    "allowed": ("allowed by firmware.toml", "[harden.allow] accepts this function in "
                "interrupts; what it calls is not judged"),
    "library-model": ("bound from a library model or firmware.toml",
                      "this number is a stated fact (a model file or [harden.recursion]), "
                      "not one the verifier proved from the binary"),
}
_RANK_KIND = {EXACT: 0, AT_LEAST: 1, UNBOUNDED: 2}
DEFAULT_SEVERITY = {"indirect-call": "error", "recursion": "error", "isr-stack-overflow": "error",
                    "thread-stack-overflow": "error", "stack-unproven": "warning",
                    "dynamic-stack": "warning", "undecodable": "warning",
                    "unknown-target": "warning", "config": "error", "roots": "error",
                    "vector-moved": "error", "unused-setting": "warning",
                    "library-model": "note", "allowed": "note"}


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str
    title: str
    reason: str
    root: str
    path: tuple[str, ...]          # function names from the handler to the callee
    callee: str
    site: int | None
    message: str
    file: str | None = None
    line: int | None = None
    cycle: tuple[str, ...] = ()
    via: str = ""                  # how the last call is made: call, tail, indirect, ...


@dataclass(frozen=True)
class InterruptReport:
    vectors: tuple[int, ...]
    labels: tuple[str, ...]
    name: str
    aliases: tuple[str, ...]
    address: int
    kind: str
    stack: Bound
    deepest: tuple[tuple[str, int], ...]   # (function, its frame) along the worst path


@dataclass(frozen=True)
class StackCheck:
    """A stack region against the worst case the analysis found for it."""

    name: str
    size: int | None
    worst_case: Bound
    levels: tuple[tuple[str, Bound, int], ...]   # (level label, handler bound, hardware frame)

    @property
    def margin(self) -> int | None:
        if self.size is None or self.worst_case.kind == UNBOUNDED:
            return None
        return self.size - self.worst_case.bytes


@dataclass
class VerifyResult:
    elf: str
    family: str
    board: str | None
    table: VectorTable
    interrupts: list[InterruptReport]
    findings: list[Finding]
    isr_stack: StackCheck
    thread_stack: StackCheck | None
    functions_analysed: int
    instructions: int
    notes: list[str] = field(default_factory=list)
    # Stacks handlers switch to other than the interrupt stack (a fault stack).
    other_stacks: list[StackCheck] = field(default_factory=list)

    @property
    def verdict(self) -> str:
        return "fail" if any(f.severity == "error" for f in self.findings) else "pass"


def verify(image: Image, profile: Profile | None, policy: HardenPolicy,
           stack_usage: dict[str, FrameSize]) -> VerifyResult:
    """Run every check on `image`."""
    if profile is not None and profile.cpu.family != image.family:
        raise HardenError(f"{image.path}: a {image.family.upper()} firmware cannot be checked "
                          f"against board {profile.name} ({profile.cpu.arch}); fix: pass the "
                          "board it was built for")
    table = find_roots(image, profile, policy.thread_context)
    graph = CallGraph(image, indirect=dict(policy.indirect))
    roots = list(table.roots)
    graph.expand([r.function for r in roots] + ([table.thread.function] if table.thread else []))
    runtime = _add_runtime_roots(image, graph, table, roots)
    handler_keys = apply_handler_keys(graph, [r.function for r in roots])
    models = apply_models(image, graph, dict(policy.recursion))
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
    severity = {**DEFAULT_SEVERITY, **dict(policy.severity)}

    findings: list[Finding] = []
    for message in graph.config_errors:
        findings.append(_finding("config", severity, "-", (), "-", None, message))
    if table.missing and not runtime.roots:
        findings.append(_finding("roots", severity, "-", (), "-", None,
                                 f"{image.path}: {'; '.join(table.notes)}"))
    for problem in runtime.problems:
        findings.append(_finding("vector-moved", severity, "-", (problem.function,), "-",
                                 problem.site, f"{problem.function}: {problem.message}"))
    for message in unused_keys(graph, [r.function for r in roots], handler_keys):
        findings.append(_finding("unused-setting", severity, "-", (), "-", None, message))
    # Vector-table words are addresses too; handlers and the reset entry are no callbacks.
    entries = {r.function.address for r in roots} | (
        {table.thread.function.address} if table.thread else set())
    candidates = [f for f in (address_taken(image) if any(graph.unresolved.values()) else [])
                  if f.address not in entries]
    for message in models.warnings:
        findings.append(_finding("unused-setting", severity, "-", (), "-", None, message))
    for key in models.unused_keys():
        findings.append(_finding("unused-setting", severity, "-", (), "-", None,
                                 f"[harden.recursion] {key}: no recursive cycle reachable from "
                                 "a root runs through it"))
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
        findings.append(_finding("allowed", severity, "-", (), graph.function(address).name,
                                 None, f"{graph.function(address).name}: allowed by "
                                 f"[harden.allow] {name} ({reason}); the walk stops there, "
                                 f"{stack}"))
    for message in dict.fromkeys(models.notes):
        findings.append(_finding("library-model", severity, "-", (), "-", None, message))
    if table.thread is not None:
        findings.extend(_thread_recursion(graph, depths, table.thread.function.address,
                                          table.thread.name, severity))
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
    for root in sorted(roots, key=lambda r: r.kind == "trap-entry"):
        seen_sites: set[tuple[str, str, int | None]] = set()
        for finding in _root_findings(graph, depths, frames, root, verdicts, severity,
                                      allowed, arguments, candidates):
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
    interrupts = [_interrupt(table, graph, depths, frames, root, placed) for root in roots]
    for root in roots:
        for why in placed.unproven.get(root.name, []):
            findings.append(_finding("stack-unproven", severity, root.name, (root.name,), "-",
                                     None, f"{root.name}: {why}"))
    isr = _isr_stack(image, profile, policy, table, interrupts)
    thread = _thread_stack(image, profile, table, graph, frames, depths)
    others = [StackCheck(f"stack {o.name} (used by {', '.join(o.functions)})", o.size,
                         o.worst_case, tuple((f, o.worst_case, 0) for f in o.functions))
              for o in placed.others]
    vendor = (vendor_stack(image) if isr.size is None and (thread is None or thread.size is None)
              else None)
    for check, rule in ((isr, "isr-stack-overflow"), (thread, "thread-stack-overflow"),
                        *((o, "isr-stack-overflow") for o in others)):
        if check is not None:
            findings.extend(_stack_findings(check, rule, severity))
    if vendor is not None:
        # No fwharden layout: main() and every handler share the one stack the vendor
        # script reserves (stack_symbols.py), so both worst cases must fit in it together.
        check, found = _vendor_check(vendor.size, vendor.source, isr, thread, severity)
        others.append(check)
        findings.extend(found)
    for other in others:
        if other.size is None:
            findings.append(_finding("stack-unproven", severity, "-", (), "-", None,
                                     f"{other.name}: worst case {other.worst_case.describe()}, "
                                     "but the stack's size is not in the symbol table, so it "
                                     "cannot be checked"))
    findings.sort(key=lambda f: ({"error": 0, "warning": 1}.get(f.severity, 2), f.rule,
                                 f.root, f.site or 0))
    instructions = sum(d.instructions for d in graph.decoded.values())
    return VerifyResult(elf=str(image.path), family=image.family,
                        board=profile.name if profile else None, table=table,
                        interrupts=interrupts, findings=findings, isr_stack=isr,
                        thread_stack=thread, functions_analysed=len(graph.decoded),
                        instructions=instructions, other_stacks=others,
                        notes=list(table.notes) + list(runtime.notes))


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
            roots.append(Root(found.function, (RUNTIME_VECTOR,),
                              "trap-entry" if found.trap_entry else "handler"))
        graph.expand([found.function for found in new])
    return runtime


def _finding(rule: str, severity: dict[str, str], root: str, path: tuple[str, ...],
             callee: str, site: int | None, message: str, *, title: str | None = None,
             reason: str | None = None, level: str | None = None,
             cycle: tuple[str, ...] = ()) -> Finding:
    default_title, default_reason = RULE_TEXT.get(rule, (rule, ""))
    return Finding(rule=rule, severity=severity.get(rule, level or "error"),
                   title=title or default_title, reason=reason or default_reason, root=root,
                   path=path, callee=callee, site=site, message=message, cycle=cycle)


def _root_findings(graph: CallGraph, depths: Depths, frames: dict[int, FrameSize], root: Root,
                   verdicts: dict, severity: dict[str, str],
                   allowed: dict[int, tuple[str, str]] | None = None,
                   arguments: dict | None = None,
                   candidates: list | None = None) -> list[Finding]:
    """Breadth-first from the root: the shortest path to each problem, deterministic order.
    The walk does not continue into a forbidden function: its insides are its own problem."""
    start = root.function.address
    parent: dict[int, Edge | None] = {start: None}
    queue = deque([start])
    out: list[Finding] = []
    cyclic = {a: tuple(c) for c in depths.cycles for a in c}
    reported_cycles: set[tuple[int, ...]] = set()
    allowed = allowed or {}
    arguments = arguments or {}

    def path_to(address: int) -> tuple[str, ...]:
        names = []
        node: int | None = address
        while node is not None:
            names.append(graph.function(node).name)
            edge = parent[node]
            node = edge.caller if edge else None
        return tuple(reversed(names))

    while queue:
        address = queue.popleft()
        func = graph.function(address)
        decoded = graph.decoded[address]
        if address in cyclic and cyclic[address] not in reported_cycles:
            cycle = cyclic[address]
            reported_cycles.add(cycle)
            names = tuple(graph.function(a).name for a in cycle)
            edge = parent[address]
            out.append(_finding("recursion", severity, root.name, path_to(address), func.name,
                                edge.site if edge else None,
                                f"recursion through {describe_cycle(graph, list(cycle))}: no "
                                f"stack bound; {recursion_fix(graph, list(cycle))}",
                                cycle=names))
        if decoded.frame_dynamic and not frames[address].exact:
            out.append(_finding("dynamic-stack", severity, root.name, path_to(address),
                                func.name, None, f"{func.name}: {decoded.frame_note}"))
        for where, what in decoded.unknown:
            out.append(_finding("undecodable", severity, root.name, path_to(address), func.name,
                                where, f"{func.name}: {what} at 0x{where:08x}"))
        for site in graph.unresolved.get(address, []):
            kind = "tail call" if site.kind == "indirect-tail" else "call"
            out.append(_finding("indirect-call", severity, root.name, path_to(address),
                                "<indirect>", site.site,
                                f"indirect {kind} in {func.name} at 0x{site.site:08x} "
                                f"with no known targets; "
                                f"{snippet(site.site, func.name, candidates or [])}"))
        for site, target in graph.unknown_targets.get(address, []):
            out.append(_finding("unknown-target", severity, root.name, path_to(address),
                                f"0x{target:08x}", site,
                                f"{func.name} calls 0x{target:08x}, outside every function"))
        for edge in graph.edges.get(address, []):
            detail = ""
            if edge.callee in arguments:
                # Judged per call site: one caller may pass a FromISR command, another not.
                fine, detail = arguments[edge.callee](edge)
                if fine:
                    out.append(_finding("library-model", severity, root.name,
                                        (*path_to(address), graph.function(edge.callee).name),
                                        graph.function(edge.callee).name, edge.site, detail))
                    continue
            if edge.callee in parent:
                continue
            parent[edge.callee] = edge
            if edge.callee in allowed:
                continue  # [harden.allow]: what the allowed function calls is not judged
            matched = verdicts[edge.callee]
            if matched is not None:
                category, name = matched
                level = severity.get(category.rule, category.severity)
                out.append(Finding(rule=category.rule, severity=level, title=category.title,
                                   reason=category.reason, root=root.name,
                                   path=path_to(edge.callee), callee=name, site=edge.site,
                                   message=f"{root.name} reaches {name} ({category.title})"
                                   f"{detail}",
                                   via=edge.kind))
                continue
            queue.append(edge.callee)
    return out


def _thread_recursion(graph: CallGraph, depths: Depths, start: int, name: str,
                      severity: dict[str, str]) -> list[Finding]:
    """A recursion the thread code reaches that nothing bounds, named in full: without it
    the thread stack is "unbounded" with no word on why. Only recursion is judged here;
    forbidden calls are fine in thread context."""
    parent: dict[int, Edge | None] = {start: None}
    queue = deque([start])
    cyclic = {a: tuple(c) for c in depths.cycles for a in c}
    out, seen = [], set()
    while queue:
        address = queue.popleft()
        cycle = cyclic.get(address)
        if cycle is not None and cycle not in seen:
            seen.add(cycle)
            path, node = [], address
            while node is not None:
                path.append(graph.function(node).name)
                edge = parent[node]
                node = edge.caller if edge else None
            edge = parent[address]
            out.append(_finding("recursion", severity, name, tuple(reversed(path)),
                                graph.function(address).name, edge.site if edge else None,
                                f"thread code recursion through "
                                f"{describe_cycle(graph, list(cycle))}: the thread stack has no "
                                f"bound; {recursion_fix(graph, list(cycle))}",
                                cycle=tuple(graph.function(a).name for a in cycle)))
        for edge in graph.edges.get(address, []):
            if edge.callee not in parent:
                parent[edge.callee] = edge
                queue.append(edge.callee)
    return out


def _interrupt(table: VectorTable, graph: CallGraph, depths: Depths,
               frames: dict[int, FrameSize], root: Root, placed: SwitchResult) -> InterruptReport:
    address = root.function.address
    stack = depths.depth[address]
    if root.name in placed.extra:
        # Code after a switch onto the interrupt stack runs there too (stackswitch.py).
        stack = stack.plus(placed.extra[root.name])
    chain = [(root.name, frames[address].bytes)]
    for edge in deepest_path(depths, address):
        chain.append((graph.function(edge.callee).name, frames[edge.callee].bytes))
    return InterruptReport(vectors=root.vectors,
                           labels=tuple(vector_label(table, i) for i in root.vectors),
                           name=root.name, aliases=root.function.names[1:], address=address,
                           kind=root.kind, stack=stack, deepest=tuple(chain))


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


def _hardware_frame(image: Image, profile: Profile | None) -> int:
    if image.family != "arm":
        return 0  # RISC-V pushes nothing; the trap entry's own frame is in its function
    fp = (profile.cpu.has_fpu and profile.cpu.float_abi != "soft") if profile else image.arm_fp
    return (ARM_FP_FRAME if fp else ARM_FRAME) + ARM_ALIGN_PAD


def _isr_stack(image: Image, profile: Profile | None, policy: HardenPolicy, table: VectorTable,
               interrupts: list[InterruptReport]) -> StackCheck:
    """Sum over preemption levels of the deepest handler at that level plus its frame."""
    frame = _hardware_frame(image, profile)
    levels: list[tuple[str, Bound]] = []
    if image.family == "arm":
        fixed = [i for i in interrupts if any(v in ARM_FIXED_PRIORITY for v in i.vectors)]
        configurable = [i for i in interrupts if i not in fixed]
        priorities = dict(policy.priorities)
        grouped: dict[int, list[InterruptReport]] = {}
        loose = []
        for item in configurable:
            level = next((priorities[n] for n in (item.name, *item.aliases) if n in priorities),
                         None)
            if level is None:
                loose.append(item)
            else:
                grouped.setdefault(level, []).append(item)
        count = policy.nesting_levels or (1 << profile.interrupts.priority_bits if profile
                                          else len(configurable))
        candidates = [(f"priority {lvl}", _deepest(items)) for lvl, items in sorted(grouped.items())]
        candidates += [(f"{item.name} (priority not given)", item.stack) for item in loose]
        candidates.sort(key=lambda c: (_RANK_KIND[c[1].kind], c[1].bytes), reverse=True)
        levels = candidates[:count]
        levels += [(ARM_FIXED_PRIORITY[v], i.stack) for i in fixed for v in i.vectors
                   if v in ARM_FIXED_PRIORITY]
    else:
        # Code the hardware enters: trap entries (their bound includes what they dispatch
        # to) and handlers of vectored tables. fwharden's trap entry never re-enables
        # interrupts, so one level unless [harden] nesting_levels says otherwise.
        pool = [i for i in interrupts if i.kind in ("trap-entry", "handler")]
        count = policy.nesting_levels or 1
        ranked = sorted(pool, key=lambda i: (_RANK_KIND[i.stack.kind], i.stack.bytes), reverse=True)
        levels = [(f"level {n + 1}: {i.name}", i.stack) for n, i in enumerate(ranked[:1] * count)]
    worst = Bound(0, EXACT)
    rows = []
    for label, bound in levels:
        worst = worst.plus(bound).plus(Bound(frame, EXACT))
        rows.append((label, bound, frame))
    return StackCheck("interrupt stack", _symbol_size(image, "isr"), worst, tuple(rows))




def _deepest(items: list[InterruptReport]) -> Bound:
    best = items[0].stack
    for item in items[1:]:
        best = best.widest(item.stack)
    return best


def _thread_stack(image: Image, profile: Profile | None, table: VectorTable, graph: CallGraph,
                  frames: dict[int, FrameSize], depths: Depths) -> StackCheck | None:
    """main()'s chain from the reset entry, plus the first exception frame: on ARMv7-M an
    interrupt taken in thread mode stacks its frame on PSP, the thread stack."""
    if table.thread is None:
        return None
    depth = switched_root_depth(graph, frames, depths, table.thread.function.address)
    frame = _hardware_frame(image, profile)
    worst = depth.plus(Bound(frame, EXACT))
    return StackCheck("thread stack", _symbol_size(image, "thread"), worst,
                      ((table.thread.name, depth, frame),))


def _vendor_check(size: int, source: str, isr: StackCheck, thread: StackCheck | None,
                  severity: dict[str, str]) -> tuple[StackCheck, list[Finding]]:
    """The vendor script's one stack against main() plus the interrupts. Without known
    priorities every handler is assumed to preempt every other, which overstates CubeMX
    projects several times; so an overflow only under that assumption is a warning that
    says so, and an error needs main plus the single deepest handler not to fit."""
    name = f"main stack of the vendor linker script ({source})"
    base = thread.worst_case if thread else Bound(0, EXACT)
    worst = isr.worst_case.plus(base)
    single = base
    for _label, bound, frame in isr.levels:
        single = single.widest(base.plus(bound).plus(Bound(frame, EXACT)))
    check = StackCheck(name, size, worst, (*isr.levels, *(thread.levels if thread else ())))
    if worst.kind == UNBOUNDED or single.kind == UNBOUNDED:
        return check, [_finding("stack-unproven", severity, "-", (), "-", None,
                                f"{name}: the worst case is unbounded (recursion); {size} B "
                                "reserved, not checked")]
    if single.bytes > size:
        return check, [_finding("isr-stack-overflow", severity, "-", (), "-", None,
                                f"{name}: main() and the deepest handler alone need "
                                f"{single.describe()}, more than the {size} B reserved")]
    if worst.bytes > size:
        return check, [_finding("stack-unproven", severity, "-", (), "-", None,
                                f"{name}: main() with one handler fits ({single.describe()} of "
                                f"{size} B), but if all {len(isr.levels)} handlers nest it "
                                f"needs {worst.describe()}; the verifier does not know their "
                                "priorities: give [harden.priorities] (equal priorities do "
                                "not nest) or nesting_levels")]
    return check, _stack_findings(check, "isr-stack-overflow", severity)


def _stack_findings(check: StackCheck, rule: str, severity: dict[str, str]) -> list[Finding]:
    worst = check.worst_case
    if check.size is None:
        return []
    if worst.kind == UNBOUNDED:
        return [_finding(rule, severity, "-", (), "-", None,
                         f"{check.name}: worst case is unbounded (recursion); "
                         f"{check.size} B reserved")]
    if worst.bytes > check.size:
        return [_finding(rule, severity, "-", (), "-", None,
                         f"{check.name}: worst case {worst.describe()} exceeds the "
                         f"{check.size} B reserved by {worst.bytes - check.size} B")]
    if worst.kind == AT_LEAST:
        return [_finding("stack-unproven", severity, "-", (), "-", None,
                         f"{check.name}: worst case is at least {worst.bytes} B of "
                         f"{check.size} B; part of the chain has no static bound")]
    return []
