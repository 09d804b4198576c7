"""Hand-built images and call graphs for the unit tier: no compiler, no ELF file.

A spec maps a function name to its `Fn`: its own frame and the calls it makes. Functions
are laid out 0x100 bytes apart from 0x1000; `graph()` pre-fills what the decoder would have
found, so the real call-graph, bound and rule code runs on it unchanged (after Chromium
EC's stack analyzer tests, which check the analysis on hand-written call graphs).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.elf.image import Function, Image, Section
from fwharden.harden.isa.model import CallKind, CallSite, Decoded

BASE, STRIDE = 0x1000, 0x100


@dataclass(frozen=True)
class Call:
    target: str | None            # None: an indirect call nothing resolved
    kind: CallKind = "call"
    live_frame: int = 0           # bytes of the caller's frame held at a tail call
    other_stack: bool = False


@dataclass(frozen=True)
class Fn:
    frame: int = 0
    calls: tuple[Call, ...] = ()
    dynamic: bool = False
    unknown: tuple[str, ...] = ()  # what the decoder could not classify
    aliases: tuple[str, ...] = ()


@dataclass
class Handmade:
    image: Image
    graph: CallGraph
    address: dict[str, int] = field(default_factory=dict)


def calls(*names: str) -> tuple[Call, ...]:
    return tuple(Call(n) for n in names)


def image_of(spec: dict[str, Fn], family: str = "arm", vectors: list[str | None] | None = None
             ) -> tuple[Image, dict[str, int]]:
    """An Image with one function per spec entry and, if given, a vector table whose
    words point at the named functions (None: an empty slot)."""
    address = {name: BASE + index * STRIDE for index, name in enumerate(spec)}
    functions = [Function(address[name], STRIDE, (name, *fn.aliases), thumb=family == "arm")
                 for name, fn in spec.items()]
    sections = [Section(".text", BASE, STRIDE * len(spec), True, False, bytes(STRIDE * len(spec)))]
    if vectors is not None:
        words = [0x2000_1000] + [0 if v is None else address[v] | (family == "arm")
                                 for v in vectors]
        sections.insert(0, Section(".isr_vector", 0x100, 4 * len(words), False, False,
                                   b"".join(w.to_bytes(4, "little") for w in words)))
    symbols = {n: a for f in functions for n in f.names for a in [f.address]}
    image = Image(path=Path("handmade.elf"), family=family, entry=BASE, sections=sections,
                  functions=functions, symbols=symbols, data_symbols=[])
    return image, address


def decoded_of(spec: dict[str, Fn], image: Image, address: dict[str, int]) -> dict[int, Decoded]:
    out = {}
    for name, fn in spec.items():
        func = image.function_at(address[name])
        sites = []
        for index, call in enumerate(fn.calls):
            targets = () if call.target is None else (address[call.target],)
            kind: CallKind = call.kind if call.target is not None or call.kind.startswith(
                "indirect") else "indirect"
            sites.append(CallSite(address[name] + 4 * (index + 1), kind, targets,
                                  call.live_frame, other_stack=call.other_stack))
        unknown = tuple((address[name] + 0x80 + 2 * i, what) for i, what in enumerate(fn.unknown))
        out[address[name]] = Decoded(func, tuple(sites), fn.frame, fn.dynamic,
                                     "SP moved by a register" if fn.dynamic else "", unknown,
                                     instructions=4 + len(sites))
    return out


def graph(spec: dict[str, Fn], roots: tuple[str, ...] | None = None, family: str = "arm",
          indirect: dict[str, tuple[str, ...]] | None = None) -> Handmade:
    """The call graph the real `CallGraph.expand` builds from `roots` (default: all)."""
    image, address = image_of(spec, family)
    cg = CallGraph(image, indirect=indirect or {})
    cg.decoded.update(decoded_of(spec, image, address))
    cg.expand([image.function_at(address[r]) for r in (roots or tuple(spec))])
    return Handmade(image, cg, address)
