"""Incremental verify: per-function decode results kept between runs (`verify --cache DIR`).

A rebuild that changed one function should decode one function. The decoders
(isa/thumb.py, isa/rv32.py) are deterministic functions of the function and of the
answers the image gives them: bytes read, words, which function or section holds an
address, data symbols, mapping-symbol spans, a few symbols. So a decode is recorded with
every question it asked and every answer (a `_Recorder` stands between decoder and
image), and it is reused only when the new image gives the same answer to every one of
those questions, for the same function (address, size, names, Thumb bit), under the same
fwharden sources, capstone and Python. Anything the recorder does not know how to record
makes that decode uncacheable, never a guess; a changed decoder changes the key.

The cache is one JSON file (no pickle: a foreign or damaged file must never run code or
raise): `DIR/verify-decode.json`. A file that is not exactly what this module writes is
ignored and replaced. A decode whose JSON form does not give back an equal value is not
kept. `stats` counts decoded and reused functions (the test checks them, not timings).

Limits, said aloud: the key holds the function's address, so an edit that changes a
function's size moves the functions linked after it, and those are decoded again (their
answers differ: other addresses). An edit that keeps the size (a constant, a condition)
re-decodes that function alone.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fwharden import __version__
from fwharden.atomic import OutputError, write_atomically
from fwharden.harden.elf.image import DataSymbol, Function, Image, Section
from fwharden.harden.isa.model import CallSite, Decoded

FILE_NAME = "verify-decode.json"
FORMAT = 1
# Sources a decode depends on: a change to any of them is a new key (an editable install
# runs whatever is on disk, whatever the version says).
_PACKAGE = Path(__file__).resolve().parents[2]
_SOURCES = ("harden/isa", "harden/elf/image.py", "harden/analysis/callgraph.py",
            "harden/analysis/decode_cache.py")


def environment_key(family: str) -> str:
    """The key every entry shares: fwharden's version and decoder sources, capstone's
    version, the Python version, the architecture."""
    import capstone

    digest = hashlib.sha256()
    digest.update(f"{FORMAT}|{__version__}|{capstone.__version__}|{capstone.cs_version()}|"
                  f"{sys.version_info[:2]}|{family}".encode())
    for name in _SOURCES:
        path = _PACKAGE / name
        files = sorted(path.glob("*.py")) if path.is_dir() else [path]
        for source in files:
            digest.update(source.name.encode() + b"\0" + source.read_bytes() + b"\0")
    return digest.hexdigest()


class Uncacheable(Exception):
    """The decoder asked the image something the recorder cannot record."""


def _function(value: Function | None) -> list | None:
    return None if value is None else [value.address, value.size, list(value.names),
                                       value.thumb, value.weak]


def _section(value: Section | None) -> list | None:
    return None if value is None else [value.name, value.address, value.size,
                                       value.executable, value.writable]


def _data_symbol(value: DataSymbol | None) -> list | None:
    return None if value is None else [value.name, value.address, value.size]


def _bytes(value: bytes | None) -> str | None:
    return None if value is None else hashlib.sha256(value).hexdigest()


def _spans(value: list[tuple[int, int]]) -> list:
    return [list(span) for span in value]


def _function_arg(image: Image, args: list) -> Function:
    """A Function argument, recorded by its fields (code_spans takes one)."""
    return Function(args[0], args[1], tuple(args[2]), args[3], args[4])


# kind -> (how the image answers it, how the answer is recorded). One table for recording
# and for checking, so both encode an answer the same way.
_QUESTIONS: dict[str, tuple[Callable[[Image, list], Any], Callable[[Any], Any]]] = {
    "function_at": (lambda image, a: image.function_at(a[0]), _function),
    "function_named": (lambda image, a: image.function_named(a[0]), _function),
    "section_at": (lambda image, a: image.section_at(a[0]), _section),
    "data_symbol_at": (lambda image, a: image.data_symbol_at(a[0]), _data_symbol),
    "read": (lambda image, a: image.read(a[0], a[1]), _bytes),
    "word": (lambda image, a: image.word(a[0]), lambda v: v),
    "data_ranges": (lambda image, a: image.data_ranges(a[0], a[1]), _spans),
    "code_spans": (lambda image, a: image.code_spans(_function_arg(image, a)), _spans),
    "symbol": (lambda image, a: image.symbols.get(a[0]), lambda v: v),
    "family": (lambda image, a: image.family, lambda v: v),
}


class _SectionView:
    """A section as the decoder sees it: its flags and place, not its bytes (a read of
    the bytes goes through `read`, which is recorded)."""

    def __init__(self, section: Section) -> None:
        self.name = section.name
        self.address = section.address
        self.size = section.size
        self.executable = section.executable
        self.writable = section.writable
        self.end = section.end

    def __getattr__(self, name: str) -> Any:
        raise Uncacheable(f"section.{name}")


class _Symbols:
    """image.symbols, read through `get`, `[]` and `in` only."""

    def __init__(self, recorder: _Recorder) -> None:
        self._recorder = recorder

    def get(self, name: str, default: Any = None) -> Any:
        value = self._recorder._ask("symbol", [name])
        return default if value is None else value

    def __getitem__(self, name: str) -> int:
        value = self.get(name)
        if value is None:
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None


class _Recorder:
    """Stands for the Image during one decode; every answer it gives is written down."""

    def __init__(self, image: Image) -> None:
        self._image = image
        # json.dumps([kind, args]) -> [kind, args, recorded answer]; every recorded answer
        # is made of lists, str, int, bool and None, so it compares equal to its JSON form.
        self.asked: dict[str, list] = {}
        self.symbols = _Symbols(self)

    def _ask(self, kind: str, args: list) -> Any:
        answer, record = _QUESTIONS[kind]
        value = answer(self._image, args)
        self.asked[json.dumps([kind, args])] = [kind, args, record(value)]
        return value

    @property
    def family(self) -> str:
        return self._ask("family", [])

    def function_at(self, address: int) -> Function | None:
        return self._ask("function_at", [address])

    def function_named(self, name: str) -> Function | None:
        return self._ask("function_named", [name])

    def section_at(self, address: int) -> _SectionView | None:
        section = self._ask("section_at", [address])
        return None if section is None else _SectionView(section)

    def data_symbol_at(self, address: int) -> DataSymbol | None:
        return self._ask("data_symbol_at", [address])

    def read(self, address: int, size: int) -> bytes | None:
        return self._ask("read", [address, size])

    def word(self, address: int) -> int | None:
        return self._ask("word", [address])

    def data_ranges(self, start: int, end: int) -> list[tuple[int, int]]:
        return self._ask("data_ranges", [start, end])

    def code_spans(self, func: Function) -> list[tuple[int, int]]:
        return self._ask("code_spans", _function(func))

    def __getattr__(self, name: str) -> Any:
        raise Uncacheable(f"image.{name}")


def _tuples(value: Any) -> Any:
    """JSON lists back into the tuples the decoder's dataclasses hold."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def _dump(decoded: Decoded) -> dict:
    fields = {f.name: getattr(decoded, f.name) for f in dataclasses.fields(Decoded)
              if f.name != "function"}
    fields["calls"] = [dataclasses.asdict(c) for c in decoded.calls]
    return json.loads(json.dumps(fields))


def _load(data: dict, func: Function) -> Decoded:
    fields = {k: _tuples(v) for k, v in data.items() if k != "calls"}
    calls = tuple(CallSite(**{k: _tuples(v) for k, v in c.items()}) for c in data["calls"])
    return Decoded(function=func, calls=calls, **fields)


def _entry_key(func: Function) -> str:
    return json.dumps(_function(func))


class DecodeCache:
    """Decode results of one firmware's functions, read from and written to `directory`."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.stats = {"decoded": 0, "reused": 0, "uncacheable": 0}
        self._key: str | None = None
        self._old: dict[str, Any] = {}
        self._new: dict[str, Any] = {}

    def _open(self, image: Image) -> None:
        if self._key is not None:
            return
        self._key = environment_key(image.family)
        try:
            with open(self.directory / FILE_NAME, encoding="utf-8") as handle:
                data = json.load(handle)
            if (isinstance(data, dict) and data.get("format") == FORMAT
                    and data.get("key") == self._key and isinstance(data.get("entries"), dict)):
                self._old = data["entries"]
        except (OSError, ValueError, UnicodeDecodeError):
            self._old = {}   # none yet, or not ours: decoded afresh and replaced

    def decode(self, image: Image, func: Function,
               decoder: Callable[[Any, Function], Decoded]) -> Decoded:
        """`decoder(image, func)`, or its earlier result when every answer it depended on
        is the same in `image`."""
        self._open(image)
        key = _entry_key(func)
        entry = self._old.get(key)
        if entry is not None:
            reused = self._reuse(image, func, entry)
            if reused is not None:
                self.stats["reused"] += 1
                self._new[key] = entry
                return reused
        self.stats["decoded"] += 1
        recorder = _Recorder(image)
        try:
            decoded = decoder(recorder, func)
        except Uncacheable:
            self.stats["uncacheable"] += 1
            return decoder(image, func)
        if decoded.function != func:
            return decoded
        dumped = _dump(decoded)
        if _load(dumped, func) == decoded:   # only what JSON gives back exactly is kept
            self._new[key] = {"function": _function(func), "asked": list(recorder.asked.values()),
                              "decoded": dumped}
        return decoded

    @staticmethod
    def _reuse(image: Image, func: Function, entry: Any) -> Decoded | None:
        try:
            if entry["function"] != _function(func):
                return None   # filed under another function's key: not this one's
            for kind, args, recorded in entry["asked"]:
                answer, record = _QUESTIONS[kind]
                if record(answer(image, args)) != recorded:
                    return None
            return _load(entry["decoded"], func)
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            return None   # a damaged entry: decode afresh

    def save(self) -> None:
        """Write what this run used (entries of functions no longer there are dropped).
        A cache that cannot be written is no error: the next run decodes afresh."""
        if self._key is None or self._new == self._old:
            return
        text = json.dumps({"format": FORMAT, "key": self._key, "entries": self._new},
                          separators=(",", ":"), sort_keys=True)
        try:
            os.makedirs(self.directory, exist_ok=True)
            write_atomically(self.directory / FILE_NAME, text)
        except (OSError, OutputError):
            pass
