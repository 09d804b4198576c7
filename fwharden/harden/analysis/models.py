"""Library models: what the binary alone cannot show about a library, kept as data.

A model file (`fwharden/harden/models/*.toml`, one per library) states facts a reader
of the library's source and disassembly established once, for every firmware that links
it (after IAR's stack usage control files, `max recursion depth`):

- `[[recursion]]`: a call cycle inside the library and the most times any one of its
  functions can be on the stack at once (newlib's `__sfp -> __sinit -> __sfp` runs
  twice at most: `__sinit` marks the global reent initialised before it calls `__sfp`).
- `[[infeasible]]`: a call edge that cannot run, and why.
- `[[frame]]`: the frame of a hand-written function the decoder cannot size.
- `fault_handlers`: functions that run in fault context (they never return): findings on
  a path through one are warnings.
- `crash_paths`: functions that report a crash and abort (TinyGo's panic entries): the
  forbidden-call rules do not walk into them, their stack still counts.
- `[[callback]]`: a library handler's guarded callback call that never runs when none of
  its `registered_by` functions is in the ELF (symbol table or DWARF names: not inlined
  either); an ELF without debug info proves nothing, so the call stays unresolved.

A model applies only when every symbol in its `detect` list is in the ELF, and a cycle
model only to a cycle whose every function it names: a cycle with one function more may
loop through code the model's author never read, so it stays unbounded. The project's
`[harden.recursion] fn = depth` is the same statement for its own code (or to override a
model); it wins over a model. Every use of a model or a project bound becomes a note in
the report, so a reader sees which numbers are claims rather than proofs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.analysis.frames import FrameSize
from fwharden.harden.analysis.rules import base_name, rule_names
from fwharden.harden.elf.image import Image, open_elf
from fwharden.harden.errors import HardenError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

# Deeper than any library recursion a model could honestly claim; a larger number is a typo.
MAX_DEPTH = 64


@dataclass(frozen=True)
class CycleModel:
    functions: frozenset[str]
    depth: int
    why: str


@dataclass(frozen=True)
class EdgeModel:
    caller: str
    callee: str
    why: str


@dataclass(frozen=True)
class FrameModel:
    function: str
    bytes: int
    why: str


@dataclass(frozen=True)
class ArgumentRule:
    """A forbidden function that is fine in an interrupt when one argument is a constant
    in `allowed` (or >= `at_least`); any other or unknown value keeps the finding."""

    function: str
    index: int                   # 0-based argument number (r0/a0 = 0)
    parameter: str               # its name in the library's prototype, for the report
    allowed: tuple[int, ...]
    at_least: int | None
    why: str

    def allows(self, value: int | None) -> bool:
        if value is None:
            return False
        if value >= 1 << 31:
            value -= 1 << 32   # the register as C's signed int (BaseType_t, uint32_t 0)
        return value in self.allowed or (self.at_least is not None and value >= self.at_least)


@dataclass(frozen=True)
class CallbackModel:
    function: str
    registered_by: tuple[str, ...]
    why: str


@dataclass(frozen=True)
class Model:
    """One library's model file, parsed."""

    name: str
    source: str                       # the file it came from, for notes and errors
    detect: tuple[str, ...]
    recursion: tuple[CycleModel, ...] = ()
    infeasible: tuple[EdgeModel, ...] = ()
    frames: tuple[FrameModel, ...] = ()
    fault_handlers: tuple[str, ...] = ()
    arguments: tuple[ArgumentRule, ...] = ()
    crash_paths: tuple[str, ...] = ()
    callbacks: tuple[CallbackModel, ...] = ()


def _fail(source: str, key: str, problem: str) -> HardenError:
    return HardenError(f"{source}: {key}: {problem}")


def _string(source: str, key: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(source, key, "must be a non-empty string")
    return value


def _names(source: str, key: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value:
        raise _fail(source, key, "must be a non-empty list of function names")
    return tuple(_string(source, f"{key}[{i}]", v) for i, v in enumerate(value))


def _count(source: str, key: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(source, key, f"must be an integer from {low} to {high}")
    return value


def _entries(source: str, data: dict[str, Any], key: str, fields: set[str]) -> list[dict]:
    entries = data.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _fail(source, key, f"must be an array of tables ([[{key}]])")
    for i, entry in enumerate(entries):
        unknown = set(entry) - fields
        if unknown:
            raise _fail(source, f"{key}[{i}].{sorted(unknown)[0]}",
                        f"unknown key (known: {', '.join(sorted(fields))})")
        missing = fields - set(entry)
        if missing:
            raise _fail(source, f"{key}[{i}].{sorted(missing)[0]}", "missing")
    return entries


def parse_model(source: str, text: str) -> Model:
    """A model from the text of one file; any mistake is one line naming file and key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _fail(source, "-", f"not valid TOML ({str(exc).splitlines()[0]})") from None
    known = {"model", "recursion", "infeasible", "frame", "argument", "callback"}
    for key in data:
        if key not in known:
            raise _fail(source, key, f"unknown table (known: {', '.join(sorted(known))})")
    head = data.get("model")
    if not isinstance(head, dict):
        raise _fail(source, "model", "missing (give [model] name and detect)")
    for key in head:
        if key not in ("name", "library", "detect", "fault_handlers", "crash_paths"):
            raise _fail(source, f"model.{key}", "unknown key")
    recursion = tuple(
        CycleModel(frozenset(_names(source, f"recursion[{i}].functions", e["functions"])),
                   _count(source, f"recursion[{i}].depth", e["depth"], 1, MAX_DEPTH),
                   _string(source, f"recursion[{i}].why", e["why"]))
        for i, e in enumerate(_entries(source, data, "recursion", {"functions", "depth", "why"})))
    infeasible = tuple(
        EdgeModel(_string(source, f"infeasible[{i}].caller", e["caller"]),
                  _string(source, f"infeasible[{i}].callee", e["callee"]),
                  _string(source, f"infeasible[{i}].why", e["why"]))
        for i, e in enumerate(_entries(source, data, "infeasible", {"caller", "callee", "why"})))
    frames = tuple(
        FrameModel(_string(source, f"frame[{i}].function", e["function"]),
                   _count(source, f"frame[{i}].bytes", e["bytes"], 0, 1 << 20),
                   _string(source, f"frame[{i}].why", e["why"]))
        for i, e in enumerate(_entries(source, data, "frame", {"function", "bytes", "why"})))
    arguments = []
    for i, e in enumerate(_entries(source, data, "argument",
                                   {"function", "index", "parameter", "allowed", "why"})):
        key = f"argument[{i}]"
        allowed = e["allowed"]
        if isinstance(allowed, str) and allowed.startswith(">="):
            at_least = _count(source, f"{key}.allowed", _int_text(allowed[2:]), 0, 1 << 32)
            values: tuple[int, ...] = ()
        elif isinstance(allowed, list) and allowed:
            at_least = None
            values = tuple(_count(source, f"{key}.allowed[{j}]", v, 0, 1 << 32)
                           for j, v in enumerate(allowed))
        else:
            raise _fail(source, f"{key}.allowed", 'must be a list of values or ">= N"')
        arguments.append(ArgumentRule(
            _string(source, f"{key}.function", e["function"]),
            _count(source, f"{key}.index", e["index"], 0, 7),
            _string(source, f"{key}.parameter", e["parameter"]), values, at_least,
            _string(source, f"{key}.why", e["why"])))
    callbacks = tuple(
        CallbackModel(_string(source, f"callback[{i}].function", e["function"]),
                      _names(source, f"callback[{i}].registered_by", e["registered_by"]),
                      _string(source, f"callback[{i}].why", e["why"]))
        for i, e in enumerate(_entries(source, data, "callback",
                                       {"function", "registered_by", "why"})))
    return Model(name=_string(source, "model.name", head.get("name")), source=source,
                 arguments=tuple(arguments), callbacks=callbacks,
                 crash_paths=_names(source, "model.crash_paths", head["crash_paths"])
                 if "crash_paths" in head else (),
                 detect=_names(source, "model.detect", head.get("detect")),
                 recursion=recursion, infeasible=infeasible, frames=frames,
                 fault_handlers=tuple(_names(source, "model.fault_handlers",
                                             head["fault_handlers"]))
                 if "fault_handlers" in head else ())


def _int_text(text: str) -> int | None:
    try:
        return int(text.strip(), 0)
    except ValueError:
        return None


def builtin_models() -> tuple[Model, ...]:
    """Every model shipped in the package (`fwharden/harden/models/*.toml`), by file name."""
    folder = resources.files("fwharden.harden") / "models"
    out = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            out.append(parse_model(f"fwharden/harden/models/{entry.name}", entry.read_text()))
    return tuple(out)


def load_model_file(path: Path) -> Model:
    """A model from a file of the user's (tests, a project's own library)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise HardenError(f"{path}: cannot read: {exc}") from None
    return parse_model(str(path), text)


@dataclass
class ModelUse:
    """What the models and the project's recursion bounds decided for one call graph.

    cycle_depth(component) gives the depth bound for a strongly connected component, or
    None (unbounded); `notes` says for the report where each decision came from.
    """

    graph: CallGraph
    models: tuple[Model, ...]                   # the models whose detect symbols are present
    recursion: dict[str, int]                   # [harden.recursion]
    notes: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    frames: dict[int, FrameSize] = field(default_factory=dict)
    _used_keys: set[str] = field(default_factory=set)

    def _names(self, address: int) -> set[str]:
        names = self.graph.function(address).names
        return {*names, *(base_name(n) for n in names)}

    def cycle_depth(self, component: Iterable[int]) -> int | None:
        members = list(component)
        member_names = [self._names(a) for a in members]
        shown = " -> ".join(self.graph.function(a).name for a in members)
        project = [(key, depth) for key, depth in self.recursion.items()
                   if any(key in names for names in member_names)]
        if project:
            depth = max(d for _k, d in project)
            self._used_keys.update(k for k, _d in project)
            keys = ", ".join(f"{k} = {d}" for k, d in project)
            self.notes.append(f"recursion {shown}: at most {depth} deep on the stack, from "
                              f"firmware.toml [harden.recursion] {keys}")
            return depth
        for model in self.models:
            for cycle in model.recursion:
                if all(names & cycle.functions for names in member_names):
                    self.notes.append(f"recursion {shown}: at most {cycle.depth} deep on the "
                                      f"stack, from library model {model.name} "
                                      f"({model.source}): {cycle.why}")
                    return cycle.depth
        return None

    def unused_keys(self) -> list[str]:
        return [k for k in self.recursion if k not in self._used_keys]


def apply_models(image: Image, graph: CallGraph, recursion: dict[str, int],
                 models: tuple[Model, ...] | None = None) -> ModelUse:
    """Choose the models that fit `image` and apply what can be applied before the stack
    bounds: infeasible edges leave the graph, modelled frames are recorded."""
    models = builtin_models() if models is None else models
    present = tuple(m for m in models
                    if all(image.function_named(s) is not None or s in image.symbols
                           for s in m.detect))
    use = ModelUse(graph, present, dict(recursion))
    for key in recursion:
        if image.function_named(key) is None and not any(
                key in {base_name(n) for n in f.names} for f in image.functions):
            use.warnings.append(f"[harden.recursion] names '{key}', but the ELF has no such "
                                "function")
            use._used_keys.add(key)   # reported here already
    for model in present:
        for edge in model.infeasible:
            for caller, edges in graph.edges.items():
                if edge.caller not in use._names(caller):
                    continue
                kept = [e for e in edges if edge.callee not in use._names(e.callee)]
                if len(kept) != len(edges):
                    graph.edges[caller] = kept
                    use.notes.append(f"call {graph.function(caller).name} -> {edge.callee} "
                                     f"left out: library model {model.name}: {edge.why}")
        for frame in model.frames:
            func = image.function_named(frame.function)
            if func is None or func.address not in graph.decoded:
                continue
            decoded = graph.decoded[func.address]
            use.frames[func.address] = FrameSize(max(frame.bytes, decoded.frame), True,
                                                 f"model {model.name}")
            use.notes.append(f"frame of {frame.function}: {frame.bytes} B from library model "
                             f"{model.name}: {frame.why}")
    return use


def unregistered_callbacks(image: Image, models: tuple[Model, ...]) -> list[CallbackModel]:
    """The callback entries of `models` whose function is in `image` and whose registering
    functions are nowhere in it: not a symbol, and no name in the DWARF (no inlined copy).
    Without debug info nothing is proven, so nothing is returned."""
    present = [c for m in models for c in m.callbacks if image.function_named(c.function)]
    if not present:
        return []
    with open_elf(image.path) as elf:
        parts = [sec.data() for name in (".debug_str", ".debug_info", ".debug_line_str")
                 if (sec := elf.get_section_by_name(name)) is not None]
    if not parts:
        return []
    names = b"\n".join(parts)
    symbols = "\n".join(image.symbols)
    return [c for c in present
            if not any(n in symbols or n.encode() in names for n in c.registered_by)]


def argument_rules(graph: CallGraph, models: tuple[Model, ...] | None = None
                   ) -> dict[int, tuple[ArgumentRule, Model]]:
    """The decoded functions an argument rule speaks about, by address. The rule's own
    function name is what identifies the library here, so no `detect` is needed."""
    models = builtin_models() if models is None else models
    by_name = {rule.function: (rule, model) for model in models for rule in model.arguments}
    out = {}
    for address in graph.edges:
        for name in graph.function(address).names:
            for candidate in rule_names(name):
                if candidate in by_name:
                    out[address] = by_name[candidate]
    return out


def cycle_order(graph: CallGraph, component: list[int]) -> list[int]:
    """One real cycle through the component, as a call path that ends where it starts
    (a, b, a), so a finding names calls that exist rather than a set of names."""
    members = set(component)
    start = component[0]
    parent: dict[int, int] = {}
    todo = [start]
    seen = {start}
    while todo:
        node = todo.pop(0)
        for edge in graph.edges.get(node, []):
            if edge.callee == start:
                path = [node]
                while path[-1] != start:
                    path.append(parent[path[-1]])
                return [*reversed(path), start]
            if edge.callee in members and edge.callee not in seen:
                seen.add(edge.callee)
                parent[edge.callee] = node
                todo.append(edge.callee)
    return [start, start]


def describe_cycle(graph: CallGraph, component: list[int]) -> str:
    """`a -> b -> a` plus the other functions of the component, for a finding."""
    order = cycle_order(graph, component)
    text = " -> ".join(graph.function(a).name for a in order)
    others = [graph.function(a).name for a in component if a not in order]
    if others:
        text += f" (the cycle also runs through {', '.join(others)})"
    return text


def recursion_fix(graph: CallGraph, component: list[int]) -> str:
    name = graph.function(component[0]).name
    return (f"fix: if the recursion has a limit, state it in firmware.toml: [harden.recursion] "
            f'"{name}" = N (N = the most times one of these functions can be on the stack at '
            "once); otherwise remove the recursion")
