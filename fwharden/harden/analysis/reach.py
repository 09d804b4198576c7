"""What each root reaches: forbidden calls, unresolved and unknown calls, recursion, frames
the analysis could not bound. One breadth-first walk per root, so every finding carries the
shortest call chain from its handler, in a deterministic order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from fwharden.harden.analysis.bounds import Depths
from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.analysis.findings import Finding, make_finding
from fwharden.harden.analysis.frames import FrameSize
from fwharden.harden.analysis.indirect import snippet
from fwharden.harden.analysis.models import describe_cycle, recursion_fix
from fwharden.harden.analysis.policy import Severity
from fwharden.harden.analysis.roots import Root
from fwharden.harden.analysis.rules import Category
from fwharden.harden.elf.image import Function

Verdicts = dict[int, "tuple[Category, str] | None"]


def root_findings(graph: CallGraph, depths: Depths, frames: dict[int, FrameSize], root: Root,
                  verdicts: Verdicts, severity: dict[str, Severity],
                  allowed: dict[int, tuple[str, str]] | None = None,
                  arguments: dict[int, Callable[[Edge], tuple[bool, str]]] | None = None,
                  candidates: list[Function] | None = None) -> list[Finding]:
    """Breadth-first from the root: the shortest path to each problem, deterministic order.
    The walk does not continue into a forbidden function: its insides are its own problem;
    nor into a function [harden.allow] accepts (`allowed`): what it calls is not judged."""
    allowed = allowed or {}
    arguments = arguments or {}
    start = root.function.address
    parent: dict[int, Edge | None] = {start: None}
    queue = deque([start])
    out: list[Finding] = []
    cyclic = {a: tuple(c) for c in depths.cycles for a in c}
    reported_cycles: set[tuple[int, ...]] = set()

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
            out.append(make_finding("recursion", severity,
                                    f"recursion through {describe_cycle(graph, list(cycle))}: "
                                    f"no stack bound; {recursion_fix(graph, list(cycle))}",
                                    root=root.name, path=path_to(address), callee=func.name,
                                    site=edge.site if edge else None, cycle=names))
        if decoded.frame_dynamic and not frames[address].exact:
            out.append(make_finding("dynamic-stack", severity,
                                    f"{func.name}: {decoded.frame_note}", root=root.name,
                                    path=path_to(address), callee=func.name))
        for where, what in decoded.unknown:
            out.append(make_finding("undecodable", severity,
                                    f"{func.name}: {what} at 0x{where:08x}", root=root.name,
                                    path=path_to(address), callee=func.name, site=where))
        for site in graph.unresolved.get(address, []):
            kind = "tail call" if site.kind == "indirect-tail" else "call"
            out.append(make_finding("indirect-call", severity,
                                    f"indirect {kind} in {func.name} at 0x{site.site:08x} "
                                    f"with no known targets; "
                                    f"{snippet(site.site, func.name, candidates or [])}",
                                    root=root.name,
                                    path=path_to(address), site=site.site, via=site.kind))
        for site, target in graph.unknown_targets.get(address, []):
            out.append(make_finding("unknown-target", severity,
                                    f"{func.name} calls 0x{target:08x}, outside every function",
                                    root=root.name, path=path_to(address),
                                    callee=f"0x{target:08x}", site=site))
        for edge in graph.edges.get(address, []):
            detail = ""
            if edge.callee in arguments:
                # Judged per call site: one caller may pass a FromISR command, another not.
                fine, detail = arguments[edge.callee](edge)
                if fine:
                    out.append(make_finding("library-model", severity, detail, root=root.name,
                                            path=(*path_to(address),
                                                  graph.function(edge.callee).name),
                                            callee=graph.function(edge.callee).name,
                                            site=edge.site))
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


def thread_recursion(graph: CallGraph, depths: Depths, start: int, name: str,
                     severity: dict[str, Severity]) -> list[Finding]:
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
            out.append(make_finding(
                "recursion", severity,
                f"thread code recursion through {describe_cycle(graph, list(cycle))}: the "
                f"thread stack has no bound; {recursion_fix(graph, list(cycle))}",
                root=name, path=tuple(reversed(path)), callee=graph.function(address).name,
                site=edge.site if edge else None,
                cycle=tuple(graph.function(a).name for a in cycle)))
        for edge in graph.edges.get(address, []):
            if edge.callee not in parent:
                parent[edge.callee] = edge
                queue.append(edge.callee)
    return out


def thread_unproven(graph: CallGraph, frames: dict[int, FrameSize], start: int, name: str,
                    severity: dict[str, Severity]) -> list[Finding]:
    """Bytes the decoder could not read, and frames moved by a run-time amount, in code the
    reset entry reaches: each leaves the thread stack's bound a minimum (`at_least`), and
    the finding names the function and address, as in handler code. Forbidden calls are
    fine in thread context and not judged here."""
    parent: dict[int, Edge | None] = {start: None}
    queue = deque([start])
    out = []
    while queue:
        address = queue.popleft()
        func = graph.function(address)
        decoded = graph.decoded[address]
        path: list[str] = []
        node: int | None = address
        while node is not None:
            path.append(graph.function(node).name)
            edge = parent[node]
            node = edge.caller if edge else None
        chain = tuple(reversed(path))
        if decoded.frame_dynamic and not frames[address].exact:
            out.append(make_finding("dynamic-stack", severity,
                                    f"{func.name} (thread code): {decoded.frame_note}; the "
                                    "thread stack's bound is a minimum",
                                    root=name, path=chain, callee=func.name))
        for where, what in decoded.unknown:
            out.append(make_finding("undecodable", severity,
                                    f"{func.name} (thread code): {what} at 0x{where:08x}; the "
                                    "thread stack's bound is a minimum", root=name,
                                    path=chain, callee=func.name, site=where))
        for edge in graph.edges.get(address, []):
            if edge.callee not in parent:
                parent[edge.callee] = edge
                queue.append(edge.callee)
    return out
