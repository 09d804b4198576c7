"""The linked firmware as the analysis sees it: sections, functions, symbols and bytes.

`load_image` reads the ELF once with pyelftools and keeps plain values, so the later stages
(vector table, disassembly, call graph) never touch pyelftools objects. Every way an input
can be unusable (not an ELF, truncated, wrong machine, no symbol table) becomes one
HardenError line.
"""

from __future__ import annotations

import bisect
import io
import struct
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct import ConstructError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from fwharden.harden.errors import HardenError
from fwharden.inputs import ELF_LIMIT, InputError, printable, read_bounded

Family = Literal["arm", "riscv"]
MACHINES: dict[str, Family] = {"EM_ARM": "arm", "EM_RISCV": "riscv"}
# Executable bytes verify will decode: four times the largest flash in the catalog (the
# i.MX RT1064's 4 MiB). Decoding keeps ~50 bytes per byte of code: 50 MB took 2.7 GB.
CODE_LIMIT = 16 << 20
# Exceptions pyelftools raises on damaged or truncated input.
PARSE_ERRORS = (ELFError, ConstructError, DWARFError, ValueError, KeyError, IndexError,
                struct.error, EOFError, UnicodeDecodeError)


def read_elf_bytes(path: Path) -> bytes:
    """The whole file, read once (firmware ELFs are a few MB at most)."""
    try:
        return read_bounded(path, ELF_LIMIT)
    except InputError as exc:
        raise HardenError(f"{path}: cannot open: {exc}") from None


def parse_elf(path: Path, data: bytes) -> ELFFile:
    """An ELFFile over `data` (the bytes of `path`) for a 32-bit ARM or RISC-V executable;
    HardenError otherwise. It reads from memory, so it needs no open file."""
    try:
        elf = ELFFile(io.BytesIO(data))
        machine = elf["e_machine"]
    except PARSE_ERRORS as exc:
        raise HardenError(f"{path}: not an ELF file ({printable(str(exc))})") from None
    if machine not in MACHINES or elf.elfclass != 32:
        raise HardenError(f"{path}: {machine} ELF{elf.elfclass} is not a 32-bit ARM or "
                          "RISC-V firmware")
    return elf



@contextmanager
def open_elf(path: Path, data: bytes | None = None) -> Iterator[ELFFile]:
    """An ELFFile for a 32-bit ARM or RISC-V executable; HardenError otherwise.

    With `data` (the file's bytes, already read) the file is not read again.
    """
    yield parse_elf(path, read_elf_bytes(path) if data is None else data)


@dataclass(frozen=True)
class Section:
    """An allocated section: where it runs and what it holds."""

    name: str
    address: int
    size: int
    executable: bool
    writable: bool
    data: bytes = field(repr=False)  # empty for NOBITS
    load_address: int | None = None  # where PT_LOAD stores it (LMA); None: as `address`

    @property
    def lma(self) -> int:
        return self.address if self.load_address is None else self.load_address

    @property
    def end(self) -> int:
        return self.address + self.size


@dataclass(frozen=True)
class Function:
    """Code between a function symbol and its end; aliases share one Function."""

    address: int
    size: int
    names: tuple[str, ...]       # every symbol at this address, canonical name first
    thumb: bool = False
    weak: bool = False

    @property
    def name(self) -> str:
        return self.names[0]

    @property
    def end(self) -> int:
        return self.address + self.size


@dataclass(frozen=True)
class DataSymbol:
    name: str
    address: int
    size: int


@dataclass
class Image:
    """Everything the analysis reads from one ELF file."""

    path: Path
    family: Family
    entry: int
    sections: list[Section]
    functions: list[Function]                    # sorted by address
    symbols: dict[str, int]                      # name -> value (Thumb bit cleared)
    data_symbols: list[DataSymbol]               # sorted by address
    arm_fp: bool = False                         # built for an FPU (ARM attributes)
    # ARM mapping symbols: sorted (address, kind) with kind "t" (Thumb), "a" (ARM), "d" (data)
    mapping: list[tuple[int, str]] = field(default_factory=list)
    raw: bytes = field(default=b"", repr=False)  # the file's bytes (for DWARF, read once)
    _starts: list[int] = field(default_factory=list, repr=False)
    _by_name: dict[str, Function] = field(default_factory=dict, repr=False)
    # The image's one DWARF reader (elf/lines.py LineTable.of), made on first use: the line
    # lookups and the uninstalled-handler scan share its parse.
    _lines: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._starts = [f.address for f in self.functions]
        self._by_name = {name: f for f in self.functions for name in f.names}

    def function_at(self, address: int) -> Function | None:
        """The function whose range holds `address`."""
        index = bisect.bisect_right(self._starts, address) - 1
        if index >= 0:
            func = self.functions[index]
            if func.address <= address < max(func.end, func.address + 1):
                return func
        return None

    def function_named(self, name: str) -> Function | None:
        return self._by_name.get(name)

    def section_at(self, address: int) -> Section | None:
        for section in self.sections:
            if section.address <= address < section.end:
                return section
        return None

    def read(self, address: int, size: int) -> bytes | None:
        """`size` bytes stored at `address`, or None if no loaded section holds them all."""
        section = self.section_at(address)
        if section is None or not section.data or address + size > section.end:
            return None
        offset = address - section.address
        return section.data[offset:offset + size]

    def word(self, address: int) -> int | None:
        raw = self.read(address, 4)
        return None if raw is None else int.from_bytes(raw, "little")

    def data_symbol_at(self, address: int) -> DataSymbol | None:
        index = bisect.bisect_right([d.address for d in self.data_symbols], address) - 1
        if index >= 0:
            sym = self.data_symbols[index]
            if sym.address <= address < sym.address + max(sym.size, 1):
                return sym
        return None

    def data_ranges(self, start: int, end: int) -> list[tuple[int, int]]:
        """Spans in [start, end) that ARM mapping symbols mark as data ($d)."""
        if not self.mapping:
            return []
        spans = []
        index = max(bisect.bisect_right(self.mapping, (start, "~")) - 1, 0)
        while index < len(self.mapping) and self.mapping[index][0] < end:
            address, kind = self.mapping[index]
            following = self.mapping[index + 1][0] if index + 1 < len(self.mapping) else end
            if kind == "d":
                lo, hi = max(address, start), min(following, end)
                if lo < hi:
                    spans.append((lo, hi))
            index += 1
        return spans

    def code_spans(self, func: Function) -> list[tuple[int, int]]:
        """The spans of `func` that hold instructions: the function less its $d data."""
        spans, cursor = [], func.address
        for lo, hi in self.data_ranges(func.address, func.end):
            if lo > cursor:
                spans.append((cursor, lo))
            cursor = max(cursor, hi)
        if cursor < func.end:
            spans.append((cursor, func.end))
        return spans


def load_image(path: Path) -> Image:
    """Read sections, symbols and mapping symbols of `path` (the file is read once)."""
    data = read_elf_bytes(path)
    with open_elf(path, data) as elf:
        try:
            return _load(path, elf, data)
        except PARSE_ERRORS as exc:
            raise HardenError(f"{path}: damaged or truncated ELF ({printable(str(exc))})") from None


def _load(path: Path, elf: ELFFile, file_bytes: bytes) -> Image:
    family = MACHINES[elf["e_machine"]]
    segments = [seg for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
    sections = []
    for sec in elf.iter_sections():
        flags = sec["sh_flags"]
        if not flags & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
            continue
        data = b"" if sec["sh_type"] == "SHT_NOBITS" else sec.data()
        if sec["sh_type"] != "SHT_NOBITS" and len(data) != sec["sh_size"]:
            raise HardenError(f"{path}: section {printable(sec.name)} is truncated")
        load = next((seg["p_paddr"] + sec["sh_addr"] - seg["p_vaddr"] for seg in segments
                     if seg.section_in_segment(sec)), None)
        sections.append(Section(sec.name, sec["sh_addr"], sec["sh_size"],
                                bool(flags & SH_FLAGS.SHF_EXECINSTR),
                                bool(flags & SH_FLAGS.SHF_WRITE), data, load))
    code = sum(s.size for s in sections if s.executable)
    if code > CODE_LIMIT:
        raise HardenError(f"{path}: {code} bytes of code, more than the {CODE_LIMIT} verify "
                          "analyses (decoding costs ~50 bytes of memory per byte of code); "
                          "fix: is this a firmware ELF?")
    symtab = elf.get_section_by_name(".symtab")
    if symtab is None or symtab["sh_size"] <= 16:
        raise HardenError(f"{path}: no symbol table (stripped?); fix: verify the unstripped "
                          "ELF the linker wrote")
    strtab = elf.get_section(symtab["sh_link"])
    raw = _raw_symbols(symtab.data(), strtab.data())
    functions, symbols, data_symbols, mapping = _symbols(raw, family, sections)
    arm_fp = family == "arm" and _arm_uses_fp(elf)
    entry = elf["e_entry"] & ~1 if family == "arm" else elf["e_entry"]
    return Image(path=path, family=family, entry=entry, sections=sections,
                 functions=functions, symbols=symbols, data_symbols=data_symbols,
                 arm_fp=arm_fp, mapping=mapping, raw=file_bytes)


_SYMBOL_TYPES = {0: "STT_NOTYPE", 1: "STT_OBJECT", 2: "STT_FUNC"}
_BINDINGS = {0: "STB_LOCAL", 1: "STB_GLOBAL", 2: "STB_WEAK"}
_SHN_UNDEF, _SHN_ABS = 0, 0xFFF1


@dataclass(frozen=True)
class RawSymbol:
    name: str
    value: int
    size: int
    kind: str
    binding: str
    undefined: bool
    absolute: bool


def _raw_symbols(table: bytes, strings: bytes) -> list[RawSymbol]:
    """Elf32_Sym entries (ELF spec, Symbol Table: name, value, size, info, other, shndx),
    unpacked with struct: walking pyelftools' symbol objects costs ten times more on a
    firmware with thousands of symbols, and verify runs after every link."""
    out = []
    for name_offset, value, size, info, _other, shndx in struct.iter_unpack("<IIIBBH", table):
        end = strings.find(b"\0", name_offset)
        name = strings[name_offset:end].decode("utf-8", "replace") if end > name_offset else ""
        out.append(RawSymbol(name, value, size, _SYMBOL_TYPES.get(info & 0xF, "STT_OTHER"),
                             _BINDINGS.get(info >> 4, "STB_OTHER"), shndx == _SHN_UNDEF,
                             shndx == _SHN_ABS))
    return out


def _canonical_key(binding: str, name: str) -> tuple[int, int, str]:
    """Order aliases: global before weak, the default handler first, then by name."""
    return (0 if binding == "STB_GLOBAL" else 1 if binding == "STB_WEAK" else 2,
            0 if "Default" in name else 1, name)


def _symbols(raw, family: str, sections: list[Section]):
    exec_spans = [(s.address, s.end) for s in sections if s.executable]

    def in_code(address: int) -> bool:
        return any(lo <= address < hi for lo, hi in exec_spans)

    by_address: dict[int, list[tuple[str, str, int, bool]]] = {}
    labels: list[tuple[int, str, str]] = []   # NOTYPE symbols in code (asm labels)
    symbols: dict[str, int] = {}
    data_symbols = []
    mapping = []
    for sym in raw:
        name = sym.name
        kind = sym.kind
        value = sym.value
        if not name or sym.undefined:
            continue
        if family == "arm" and name[0] == "$" and name[1:2] in ("t", "a", "d"):
            mapping.append((value, name[1]))
            continue
        if family == "riscv" and name[0] == "$" and name[1:2] in ("x", "d"):
            continue  # RISC-V psABI mapping symbols ($x, $xrv32i2p0_..., $d): not labels
        thumb = family == "arm" and kind == "STT_FUNC" and bool(value & 1)
        address = value & ~1 if thumb else value
        symbols.setdefault(name, address)
        binding = sym.binding
        if kind == "STT_FUNC":
            by_address.setdefault(address, []).append((name, binding, sym.size, thumb))
        elif kind == "STT_NOTYPE" and not sym.absolute and in_code(address):
            # Local ones too: asm `b irq_common` to a label without .type is code to follow.
            labels.append((address, name, binding))
        elif kind == "STT_OBJECT":
            data_symbols.append(DataSymbol(name, address, sym.size))
    # An assembly label without .type becomes a function only where no typed function
    # covers it; at a function's start it is just one more (last-ranked) alias. Linker
    # script symbols such as __fwh_vectors_end often sit on a function's first byte.
    covered = sorted((a, a + max(e[2] for e in entries)) for a, entries in by_address.items())
    label_aliases: dict[int, list[str]] = {}
    for address, name, binding in sorted(labels):
        index = bisect.bisect_right(covered, (address, 1 << 33)) - 1
        inside_typed = index >= 0 and covered[index][0] < address < covered[index][1]
        if address in by_address:
            label_aliases.setdefault(address, []).append(name)
        elif not inside_typed:
            by_address[address] = [(name, binding, 0, False)]
    starts = sorted(by_address)
    functions = []
    for index, address in enumerate(starts):
        entries = sorted(by_address[address], key=lambda e: _canonical_key(e[1], e[0]))
        size = max(e[2] for e in entries)
        if size == 0:
            # Assembly labels without .size: up to the next function or the section end.
            following = starts[index + 1] if index + 1 < len(starts) else None
            section_end = next((hi for lo, hi in exec_spans if lo <= address < hi), address)
            size = (min(following, section_end) if following else section_end) - address
        names = tuple(dict.fromkeys([*(e[0] for e in entries), *label_aliases.get(address, [])]))
        functions.append(Function(address, size, names, thumb=any(e[3] for e in entries),
                                  weak=all(e[1] == "STB_WEAK" for e in entries)))
    mapping.sort()
    data_symbols.sort(key=lambda d: d.address)
    return functions, symbols, data_symbols, mapping


def _arm_uses_fp(elf: ELFFile) -> bool:
    """True when the build attributes say FP registers are used (Tag_ABI_VFP_args / FP arch)."""
    section = elf.get_section_by_name(".ARM.attributes")
    if section is None:
        return True  # NOTE: assume the worst (a 104-byte exception frame) without attributes
    try:
        for subsection in section.iter_subsections():
            for subsub in subsection.iter_subsubsections():
                for attribute in subsub.iter_attributes():
                    if attribute.tag == "TAG_FP_ARCH" and attribute.value:
                        return True
    except PARSE_ERRORS:
        return True
    return False
