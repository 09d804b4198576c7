"""Worst-case stack depth per function: frames summed along the deepest call path.

Uncertainty lives in the type (after cargo-call-stack): a bound is exact, at_least (an
unknown frame or an unresolved call somewhere below: the true value may be larger), or
unbounded (recursion). A call adds the callee's depth to the caller's whole frame; a tail
call adds it to the part of the frame still live at the branch (usually none).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.analysis.frames import FrameSize
from fwharden.harden.analysis.rules import base_name

BoundKind = Literal["exact", "at_least", "unbounded"]
EXACT: BoundKind = "exact"
AT_LEAST: BoundKind = "at_least"
UNBOUNDED: BoundKind = "unbounded"
_RANK: dict[str, int] = {EXACT: 0, AT_LEAST: 1, UNBOUNDED: 2}


@dataclass(frozen=True)
class Bound:
    """A stack depth in bytes and how sure it is: exact (no execution uses more), at_least
    (some execution may use more), unbounded (recursion: `bytes` is what is known)."""

    bytes: int
    kind: BoundKind

    def plus(self, other: Bound) -> Bound:
        kind = max(self.kind, other.kind, key=_RANK.__getitem__)
        return Bound(self.bytes + other.bytes, kind)

    def widest(self, other: Bound) -> Bound:
        """The larger of two alternatives; uncertainty of either carries over."""
        kind = max(self.kind, other.kind, key=_RANK.__getitem__)
        return Bound(max(self.bytes, other.bytes), kind)

    def rank(self) -> tuple[int, int]:
        """Order for "worse": less certain first, then more bytes."""
        return (_RANK[self.kind], self.bytes)

    def describe(self) -> str:
        if self.kind == UNBOUNDED:
            return "unbounded"
        return f"{'>= ' if self.kind == AT_LEAST else ''}{self.bytes} B"


def function_frames(graph: CallGraph, stack_usage: dict[str, FrameSize]) -> dict[int, FrameSize]:
    """The frame of every decoded function: the .su value where the build wrote one (never
    below what the disassembly shows), else the disassembly's."""
    frames = {}
    for address, decoded in graph.decoded.items():
        names = decoded.function.names
        su = next((stack_usage[n] for n in (*names, *(base_name(n) for n in names))
                   if n in stack_usage), None)
        decoded_exact = not decoded.frame_dynamic and not decoded.unknown
        if su is not None:
            frames[address] = FrameSize(max(su.bytes, decoded.frame),
                                        su.exact and not decoded.unknown, ".su")
        else:
            frames[address] = FrameSize(decoded.frame, decoded_exact, "disassembly")
    return frames


@dataclass(frozen=True)
class Depths:
    """Per-function worst-case depth, the edge on its deepest path, and the cycles found."""

    depth: dict[int, Bound]
    deepest: dict[int, Edge | None]
    cycles: list[list[int]]            # strongly connected components with a cycle, unbounded
    # Cycles a library model or [harden.recursion] bounds: (component, depth).
    bounded: list[tuple[list[int], int]] = field(default_factory=list)


def compute_depths(graph: CallGraph, frames: dict[int, FrameSize],
                   cycle_depth: Callable[[Iterable[int]], int | None] | None = None) -> Depths:
    """`cycle_depth(component)`: the most times any function of a recursive component can
    be on the stack at once (models.py), or None when nothing bounds it."""
    components = _strongly_connected(graph)
    cyclic: set[int] = set()
    cycles = []
    bounded: dict[int, int] = {}
    bounded_list = []
    loops: set[int] = set()
    for component in components:
        if len(component) > 1 or any(e.callee == component[0]
                                     for e in graph.edges.get(component[0], [])):
            if _tail_loop(graph, component):
                # Only frame-releasing tail branches close the cycle (asm loops split by
                # labels, pico-sdk's crt0 data_cpy_loop <-> data_cpy): a loop, not
                # recursion, so the stack does not grow around it.
                loops.add(component[0])
                continue
            limit = cycle_depth(component) if cycle_depth else None
            if limit is None:
                cycles.append(component)
                cyclic.update(component)
            else:
                bounded_list.append((component, limit))
                bounded[component[0]] = limit
    depth: dict[int, Bound] = {}
    deepest: dict[int, Edge | None] = {}
    # Tarjan yields components callees-first, so every callee is done before its callers.
    for component in components:
        if component[0] in bounded:
            _bounded_cycle(graph, frames, component, bounded[component[0]], depth, deepest)
            continue
        if component[0] in loops:
            _tail_cycle(graph, frames, component, depth, deepest)
            continue
        for address in component:
            frame = frames[address]
            own = Bound(frame.bytes, EXACT if frame.exact else AT_LEAST)
            if address in cyclic:
                depth[address], deepest[address] = Bound(frame.bytes, UNBOUNDED), None
                continue
            best, best_edge = own, None
            if graph.unresolved.get(address) or graph.unknown_targets.get(address):
                best = Bound(best.bytes, max(best.kind, AT_LEAST, key=_RANK.__getitem__))
            for edge in graph.edges.get(address, []):
                if edge.other_stack:
                    continue  # runs on another stack (the fault stack): not this one's depth
                callee = depth[edge.callee]
                held = frame.bytes if edge.kind in ("call", "indirect") else min(
                    edge.live_frame, frame.bytes)
                candidate = Bound(held, own.kind).plus(callee)
                if candidate.bytes > best.bytes or (candidate.bytes == best.bytes
                                                    and _RANK[candidate.kind] > _RANK[best.kind]):
                    best_edge = edge
                best = best.widest(candidate)
            depth[address], deepest[address] = best, best_edge
    return Depths(depth, deepest, cycles, bounded_list)


def _tail_loop(graph: CallGraph, component: list[int]) -> bool:
    """Whether every edge inside the component is a tail branch that holds no frame."""
    members = set(component)
    inside = [e for a in component for e in graph.edges.get(a, []) if e.callee in members]
    return bool(inside) and all(e.kind in ("tail", "indirect-tail") and e.live_frame == 0
                                and not e.other_stack for e in inside)


def _tail_cycle(graph: CallGraph, frames: dict[int, FrameSize], component: list[int],
                depth: dict[int, Bound], deepest: dict[int, Edge | None]) -> None:
    """A loop of frame-free tail branches: at any moment only one member's frame is on
    the stack, plus what that member calls out of the loop. The same bound holds for
    every member (any can run after any other)."""
    members = set(component)
    best, best_edge = Bound(0, EXACT), None
    for address in component:
        frame = frames[address]
        own = Bound(frame.bytes, EXACT if frame.exact else AT_LEAST)
        if graph.unresolved.get(address) or graph.unknown_targets.get(address):
            own = Bound(own.bytes, max(own.kind, AT_LEAST, key=_RANK.__getitem__))
        best = best.widest(own)
        for edge in graph.edges.get(address, []):
            if edge.other_stack or edge.callee in members:
                continue
            held = frame.bytes if edge.kind in ("call", "indirect") else min(edge.live_frame,
                                                                             frame.bytes)
            candidate = Bound(held, own.kind).plus(depth[edge.callee])
            if candidate.bytes > best.bytes:
                best_edge = edge
            best = best.widest(candidate)
    for address in component:
        depth[address] = best
        deepest[address] = best_edge if best_edge is not None and best_edge.caller == address \
            else None


def _bounded_cycle(graph: CallGraph, frames: dict[int, FrameSize], component: list[int],
                   limit: int, depth: dict[int, Bound], deepest: dict[int, Edge | None]) -> None:
    """Every member of a cycle whose functions are each on the stack at most `limit` times:
    no chain inside it holds more than `limit` x the sum of their frames, and the deepest
    point is that plus the deepest call out of the cycle. An over-estimate (not every
    function need be on the chain `limit` times) but never an under-estimate, so it keeps
    its kind."""
    members = set(component)
    total = Bound(0, EXACT)
    for address in component:
        frame = frames[address]
        total = total.plus(Bound(frame.bytes * limit, EXACT if frame.exact else AT_LEAST))
        if graph.unresolved.get(address) or graph.unknown_targets.get(address):
            total = Bound(total.bytes, max(total.kind, AT_LEAST, key=_RANK.__getitem__))
    best, best_edge = Bound(0, EXACT), None
    for address in component:
        for edge in graph.edges.get(address, []):
            if edge.other_stack or edge.callee in members:
                continue
            callee = depth[edge.callee]
            if best_edge is None or callee.bytes > best.bytes:
                best_edge = edge
            best = best.widest(callee)
    for address in component:
        depth[address] = total.plus(best)
        deepest[address] = best_edge if best_edge is not None and best_edge.caller == address \
            else None


def deepest_path(depths: Depths, start: int) -> list[Edge]:
    """The chain of calls that gives `start` its worst-case depth."""
    path, seen = [], {start}
    edge = depths.deepest.get(start)
    while edge is not None and edge.callee not in seen:
        path.append(edge)
        seen.add(edge.callee)
        edge = depths.deepest.get(edge.callee)
    return path


def _strongly_connected(graph: CallGraph) -> list[list[int]]:
    """Tarjan's algorithm, iterative (call chains can be deeper than Python's recursion)."""
    index: dict[int, int] = {}
    low: dict[int, int] = {}
    on_stack: set[int] = set()
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for start in sorted(graph.edges):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            node, child = work.pop()
            if child == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            successors = [e.callee for e in graph.edges.get(node, [])]
            recurse = False
            while child < len(successors):
                nxt = successors[child]
                child += 1
                if nxt not in index:
                    work.append((node, child))
                    work.append((nxt, 0))
                    recurse = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if recurse:
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                out.append(sorted(component))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return out


def switched_root_depth(graph: CallGraph, frames: dict[int, FrameSize], depths: Depths,
                        address: int) -> Bound:
    """A reset entry's depth on the stack it sets up: unlike an interrupt root, the calls
    after its SP switch are exactly what runs on that (thread) stack."""
    frame = frames[address]
    best = depths.depth[address]
    for edge in graph.edges.get(address, []):
        if edge.other_stack:
            held = frame.bytes if edge.kind in ("call", "indirect") else min(edge.live_frame,
                                                                             frame.bytes)
            best = best.widest(Bound(held, EXACT).plus(depths.depth[edge.callee]))
    return best


@dataclass(frozen=True)
class Switch:
    """Code that moves SP onto another stack, and what runs there.

    value: the new SP when the code gives it as a constant (`ldr sp, =top`,
    `la sp, __isr_stack_top`), else None. bound: the deepest the code after the switch goes
    on that stack: the function's own frame (a safe over-estimate of the part after the
    switch) or any call made after it, plus the callee's own depth.
    """

    function: int
    site: int
    value: int | None
    bound: Bound


def stack_switches(graph: CallGraph, frames: dict[int, FrameSize], depths: Depths) -> list[Switch]:
    """Every decoded function that switches stacks, with its bound on the new stack."""
    out = []
    for address, decoded in graph.decoded.items():
        if not decoded.switches:
            continue
        frame = frames[address]
        best = Bound(frame.bytes, EXACT if frame.exact else AT_LEAST)
        for edge in graph.edges.get(address, []):
            if edge.other_stack:
                best = best.widest(Bound(edge.live_frame, best.kind).plus(depths.depth[edge.callee]))
        site, value = decoded.switches[0]
        if len({v for _s, v in decoded.switches}) > 1:
            value = None  # two different new stacks in one function: not one answer
        out.append(Switch(address, site, value, best))
    return out


def reachable(graph: CallGraph, start: int) -> set[int]:
    """Every function reachable from `start` through resolved edges (both stacks)."""
    seen, todo = {start}, [start]
    while todo:
        for edge in graph.edges.get(todo.pop(), []):
            if edge.callee not in seen:
                seen.add(edge.callee)
                todo.append(edge.callee)
    return seen
