"""The call graph from the machine code, built lazily from the roots.

Only functions reachable from a root are decoded (that is most of the speed on a large
firmware). Indirect calls keep what the decoder resolved on its own; the project's
`[harden.indirect]` list adds targets by call site, by the function holding the call, or by
handler. What stays unresolved is kept as a value for the findings, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from fwharden.harden.elf.image import Function, Image
from fwharden.harden.isa.model import CallKind, CallSite, Decoded
from fwharden.harden.isa.rv32 import decode_riscv
from fwharden.harden.isa.thumb import decode_arm


@dataclass(frozen=True)
class Edge:
    """A resolved call from one function to another."""

    caller: int          # function address
    callee: int
    site: int            # address of the call instruction
    kind: CallKind
    live_frame: int
    how: str = ""
    other_stack: bool = False  # the caller had moved to another stack: not on this one


@dataclass
class CallGraph:
    image: Image
    indirect: dict[str, tuple[str, ...]] = field(default_factory=dict)
    decoded: dict[int, Decoded] = field(default_factory=dict)
    edges: dict[int, list[Edge]] = field(default_factory=dict)
    unresolved: dict[int, list[CallSite]] = field(default_factory=dict)
    unknown_targets: dict[int, list[tuple[int, int]]] = field(default_factory=dict)
    config_errors: list[str] = field(default_factory=list)
    # Run-time install scans by function (analysis/installed.py), shared across its rounds.
    scans: dict = field(default_factory=dict)
    # Earlier runs' decodes (decode_cache.DecodeCache, `verify --cache`), or None.
    cache: object = None
    # Asked about each indirect call the decoder and [harden.indirect] leave open
    # (analysis/pointers.py): (targets, how it found them), or None when it cannot tell.
    # Empty targets: the call provably never runs (the pointer is never set).
    resolver: Callable[[Function, CallSite], tuple[tuple[int, ...], str] | None] | None = None
    never_called: list[tuple[int, CallSite, str]] = field(default_factory=list)

    def function(self, address: int) -> Function:
        func = self.image.function_at(address)
        assert func is not None and func.address == address
        return func

    def decode(self, func: Function) -> Decoded:
        if func.address not in self.decoded:
            if self.cache is not None:
                self.decoded[func.address] = self.cache.decode(self.image, func, _decode)
            else:
                self.decoded[func.address] = _decode(self.image, func)
        return self.decoded[func.address]

    def expand(self, roots: Iterable[Function]) -> None:
        """Decode everything reachable from `roots` and record edges and unresolved sites."""
        stack = [r.address for r in roots]
        while stack:
            address = stack.pop()
            if address in self.edges:
                continue
            func = self.function(address)
            decoded = self.decode(func)
            edges: list[Edge] = []
            self.edges[address] = edges
            self.unresolved[address] = []
            self.unknown_targets[address] = []
            for site in decoded.calls:
                if site.kind == "call" and site.targets and all(
                        func.address < t < func.end for t in site.targets):
                    # A bl/jal into the middle of its own function (libgcc's __aeabi_dmul
                    # `bleq` to its special-case tail, which pops the entry frame and returns
                    # for it) is local control flow, not a call and not recursion: the
                    # decoder already counts that code's frame as the function's own.
                    continue
                targets = site.targets or self._configured(func, site)
                how = site.how or ("" if not site.indirect else "[harden.indirect]")
                if not targets and site.indirect and self.resolver is not None:
                    found = self.resolver(func, site)
                    if found is not None and not found[0]:
                        self.never_called.append((address, site, found[1]))
                        continue
                    if found is not None:
                        targets, how = found
                if not targets:
                    self.unresolved[address].append(site)
                    continue
                for target in targets:
                    callee = self.image.function_at(target)
                    if callee is None:
                        self.unknown_targets[address].append((site.site, target))
                        continue
                    edge = Edge(address, callee.address, site.site, site.kind, site.live_frame,
                                how, site.other_stack)
                    if edge not in edges:
                        edges.append(edge)
                    if callee.address not in self.edges:
                        stack.append(callee.address)
            edges.sort(key=lambda e: (e.site, e.callee))

    def _configured(self, func: Function, site: CallSite) -> tuple[int, ...]:
        """Targets the project lists for this site, or for the function (a handler or any
        other function) that holds it."""
        if not site.indirect:
            return ()
        keys = [f"0x{site.site:08x}", f"0x{site.site:x}", *func.names]
        names: list[str] = []
        for key in keys:
            names.extend(self.indirect.get(key, ()))
        return tuple(f.address for f in self.named(names, f"for the call at 0x{site.site:08x}"))

    def named(self, names: Iterable[str], context: str) -> list[Function]:
        """The functions `[harden.indirect]` names; a name the ELF lacks is a config error
        (one line per name and context)."""
        found = []
        for name in dict.fromkeys(names):
            callee = self.image.function_named(name)
            if callee is None:
                message = (f"[harden.indirect] names '{name}' {context}, but the ELF has no "
                           "such function")
                if message not in self.config_errors:
                    self.config_errors.append(message)
                continue
            found.append(callee)
        return found


def _decode(image: Image, func: Function) -> Decoded:
    """The decoder of the image's architecture (`image` may be decode_cache's recorder)."""
    if image.family == "arm":
        return decode_arm(image, func)
    return decode_riscv(image, func)[0]
