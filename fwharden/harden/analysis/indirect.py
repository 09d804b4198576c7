"""`[harden.indirect]` as users write it: handler keys reach every call below the handler,
keys that match nothing are reported, and an unresolved call says what to paste.

callgraph.py already applies a key that names the call site or the function holding the
call. A key naming an interrupt handler means "every indirect call this handler can
reach goes to these functions": applied here after the graph is built, repeatedly, since
the new edges can reach more code with more indirect calls. The targets are added for
the function wherever it is reached from (the graph has one edge list per function), an
over-approximation for other roots: more edges can only add findings, never hide one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from fwharden.harden.analysis.bounds import reachable
from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.analysis.pointers import Pointers, pointers_for
from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa.model import CallSite

# How many candidate names an unresolved call's snippet lists before "...".
MAX_CANDIDATES = 12


@dataclass(frozen=True)
class IndirectCall:
    """An indirect call the analysis resolved, and how (for the report and verify.json)."""

    site: int
    function: str
    targets: tuple[str, ...]     # empty: the pointer is never set, the call cannot run
    how: str
    automatic: bool = False      # found by analysis/pointers.py (not the decoder or a key)


def resolved_calls(graph: CallGraph) -> tuple[IndirectCall, ...]:
    """Every indirect call of the analysed code that has targets or provably none."""
    answered = getattr(graph.resolver, "answered", set())
    found: dict[int, IndirectCall] = {}
    for caller, edges in graph.edges.items():
        for edge in edges:
            if not edge.kind.startswith("indirect"):
                continue
            old = found.get(edge.site)
            name = graph.function(edge.callee).name
            targets = (*old.targets, name) if old else (name,)
            found[edge.site] = IndirectCall(edge.site, graph.function(caller).name,
                                            targets, edge.how, edge.site in answered)
    for caller, site, how in graph.never_called:
        found.setdefault(site.site, IndirectCall(site.site, graph.function(caller).name, (), how,
                                                 True))
    return tuple(found[k] for k in sorted(found))


class AutoResolver:
    """The CallGraph's resolver: analysis/pointers.py, built on the first call it is asked
    about (an image whose indirect calls the decoder resolves pays nothing)."""

    def __init__(self, image: Image, exclude: tuple[tuple[int, int], ...] = ()) -> None:
        self.image, self.exclude = image, exclude
        self._pointers: Pointers | None | bool = False
        self.answered: set[int] = set()     # call sites it resolved

    @property
    def pointers(self) -> Pointers | None:
        if self._pointers is False:
            self._pointers = pointers_for(self.image, self.exclude)
        return self._pointers or None

    def __call__(self, func: Function, site: CallSite) -> tuple[tuple[int, ...], str] | None:
        pointers = self.pointers
        if pointers is None:
            return None
        found = pointers.resolve(func, site.site)
        if found is None:
            return None
        self.answered.add(site.site)
        return found.targets, found.how

    def candidates(self, func: Function, site: int) -> list[Function] | None:
        """Type-matched candidates for an unresolved call, when the pointer type is known."""
        pointers = self.pointers
        if pointers is None:
            return None
        found = [self.image.function_at(a) for a in pointers.candidates(func, site)]
        return [f for f in found if f is not None]


def resolver_for(image: Image, exclude: tuple[tuple[int, int], ...] = ()) -> Callable:
    return AutoResolver(image, exclude)


def apply_handler_keys(graph: CallGraph, roots: Iterable[Function]) -> set[str]:
    """Resolve the unresolved indirect calls below each handler that `[harden.indirect]`
    names; returns the handler keys that resolved at least one call."""
    roots = list(roots)
    used: set[str] = set()
    changed = True
    while changed:
        changed = False
        for root in roots:
            keys = [n for n in root.names if n in graph.indirect]
            if not keys:
                continue
            names = [t for k in keys for t in graph.indirect[k]]
            targets = graph.named(names, f"under {keys[0]}")
            if not targets:
                continue
            new: list[Function] = []
            for address in sorted(reachable(graph, root.address)):
                sites = graph.unresolved.get(address, [])
                if not sites:
                    continue
                used.update(keys)
                edges = graph.edges[address]
                for site in sites:
                    for callee in targets:
                        edge = Edge(address, callee.address, site.site, site.kind,
                                    site.live_frame, f"[harden.indirect] {keys[0]}",
                                    site.other_stack)
                        if edge not in edges:
                            edges.append(edge)
                        if callee.address not in graph.edges:
                            new.append(callee)
                edges.sort(key=lambda e: (e.site, e.callee))
                graph.unresolved[address] = []
                changed = True
            if new:
                graph.expand(new)
    return used


def unused_keys(graph: CallGraph, roots: Iterable[Function], handler_used: set[str]) -> list[str]:
    """Keys of `[harden.indirect]` that resolved no indirect call of the analysed code."""
    sites: set[str] = set()
    holders: set[str] = set()
    for decoded in graph.decoded.values():
        indirect = [s for s in decoded.calls if s.indirect and not s.resolved]
        if indirect:
            holders.update(decoded.function.names)
        for site in indirect:
            sites.update((f"0x{site.site:08x}", f"0x{site.site:x}"))
    root_names = {n for r in roots for n in r.names}
    out = []
    for key in graph.indirect:
        if key in sites or key in holders or key in handler_used:
            continue
        if key.startswith("0x"):
            out.append(f"[harden.indirect] \"{key}\": no unresolved indirect call at that "
                       "address in the code reachable from a root")
        elif key in root_names:
            out.append(f"[harden.indirect] {key}: the handler reaches no unresolved indirect "
                       "call")
        else:
            out.append(f"[harden.indirect] {key}: no analysed function of that name holds an "
                       "unresolved indirect call")
    return out


def address_taken(image: Image) -> list[Function]:
    """Functions whose address is a word in a data section (tables, initialised structs):
    the places an indirect call can most plausibly go, for the snippet."""
    starts = {f.address: f for f in image.functions}
    found: dict[int, Function] = {}
    for section in image.sections:
        if section.executable or not section.data:
            continue
        data = section.data
        for offset in range(0, len(data) - 3, 4):
            word = int.from_bytes(data[offset:offset + 4], "little")
            func = starts.get(word & ~1 if image.family == "arm" else word)
            if func is not None and (image.family != "arm" or word & 1):
                found[func.address] = func
    return sorted(found.values(), key=lambda f: f.name)


def snippet(site: int, holder: str, candidates: list[Function]) -> str:
    """A ready-to-paste `[harden.indirect]` entry for one unresolved call."""
    names = [f'"{f.name}"' for f in candidates[:MAX_CANDIDATES]]
    more = (f"  # {len(candidates) - MAX_CANDIDATES} more address-taken functions"
            if len(candidates) > MAX_CANDIDATES else "")
    listed = ", ".join(names) if names else '"..."'
    return (f'fix: list the targets in firmware.toml, e.g. [harden.indirect] "0x{site:08x}" = '
            f"[{listed}]{more} (candidates: functions whose address is in a data table; keep "
            f"only those this call in {holder} can reach)")
