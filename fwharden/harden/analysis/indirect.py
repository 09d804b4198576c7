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

from collections.abc import Iterable

from fwharden.harden.analysis.bounds import reachable
from fwharden.harden.analysis.callgraph import CallGraph, Edge
from fwharden.harden.elf.image import Function, Image

# How many candidate names an unresolved call's snippet lists before "...".
MAX_CANDIDATES = 12


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
            targets = []
            for name in dict.fromkeys(names):
                callee = graph.image.function_named(name)
                if callee is None:
                    message = (f"[harden.indirect] {keys[0]} names '{name}', but the ELF has "
                               "no such function")
                    if message not in graph.config_errors:
                        graph.config_errors.append(message)
                    continue
                targets.append(callee)
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
