"""Handlers that are defined but never installed: the misspelt `USART2_IRQhandler`.

A vector table installs a handler by name: the start-up file (or fwharden's generated
table) holds a weak `USART2_IRQHandler` that the project's strong definition replaces. A
definition whose name is one letter off replaces nothing; it builds without a word, the
linker's --gc-sections drops it, and the interrupt lands in the default handler. This
module finds such functions and names the vector they were probably meant for.

A function counts when its name looks like a handler (`*_IRQHandler` in any case: the typo
is often the case; `*_Handler`; `*_handler` where the table names its handlers so), it is
no vector of the table, nothing references it
(no call, no address word: a PLIC dispatcher calling `UART0_IRQHandler` installs it) and,
where DWARF says so, it takes no parameters (a vector handler takes none; HAL's
`HAL_UART_IRQHandler(UART_HandleTypeDef *)` is a library routine, not a vector).

Two sources of candidates, one rule: the project's object files before the link (the
build, where a discarded function is still visible), and a linked ELF (verify: the symbol
table, plus the DWARF subprograms of functions the linker discarded).
"""

from __future__ import annotations

import difflib
import re
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from elftools.elf.relocation import RelocationSection
from elftools.elf.sections import SymbolTableSection

from fwharden.harden.elf.lines import DWARF_ERRORS, LineTable
from fwharden.harden.errors import HardenError

RULE = "uninstalled-handler"
TITLE = "handler never installed"
REASON = ("a function named like an interrupt handler matches no vector of the table and "
          "nothing calls it: the interrupt it was written for runs the default handler")

# `*_IRQHandler` in any case (the typo is often the case: USART2_IRQhandler), `*_Handler`
# as CMSIS writes it; a lower-case `*_handler` only where the table itself names its
# handlers so (the GD32VF103 library's eclic_mtip_handler), since plain C code is full of
# `*_handler` helpers that no table was ever meant to hold.
_IRQ_HANDLER = re.compile(r"irq_?handler$", re.IGNORECASE)
# Handler-shaped names that are not vectors: fwharden's own default and exception entry,
# CubeMX's Error_Handler (called from main.c), and vendor library routines (HAL_*, LL_*)
# that the project's handlers call with a handle.
_NOT_VECTORS = {"Default_Handler", "Exception_Handler", "Error_Handler"}
_LIBRARY_PREFIXES = ("HAL_", "LL_", "fwh_", "__")


@dataclass(frozen=True)
class Uninstalled:
    """One handler-shaped function that no vector installs."""

    name: str
    suggestion: str | None       # the closest vector name, if one is close
    file: str | None = None
    line: int | None = None
    address: int | None = None   # None: the linker discarded it (or not linked yet)

    @property
    def message(self) -> str:
        hint = (f"did you mean {self.suggestion}?" if self.suggestion
                else "no vector has a similar name")
        where = "" if self.address is not None else " (the linker discards it)"
        return f"{self.name} is defined but never installed{where}: {hint}"


def looks_like_handler(name: str, lower_case: bool = False) -> bool:
    """`lower_case`: the table has `*_handler` names, so such names count too."""
    shaped = (bool(_IRQ_HANDLER.search(name)) or name.endswith("_Handler")
              or (lower_case and name.endswith("_handler")))
    return shaped and name not in _NOT_VECTORS and not name.startswith(_LIBRARY_PREFIXES)


def closest_vector(name: str, vectors: Iterable[str]) -> str | None:
    """The vector name closest to `name`, compared without case (`IRQhandler`)."""
    by_lower = {v.lower(): v for v in sorted(set(vectors))}
    match = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.75)
    return by_lower[match[0]] if match else None


def uninstalled(defined: Iterable[tuple[str, str | None, int | None, int | None]],
                vectors: Iterable[str], referenced: set[str]) -> list[Uninstalled]:
    """`defined`: (name, file, line, address) of functions with parameters already left out.
    Those named like a handler that are no vector and that nothing references."""
    vector_set = set(vectors)
    lower_case = any(v.endswith("_handler") for v in vector_set)
    out = []
    for name, file, line, address in defined:
        if name in vector_set or name in referenced or not looks_like_handler(name, lower_case):
            continue
        out.append(Uninstalled(name, closest_vector(name, vector_set), file, line, address))
    return sorted(out, key=lambda u: (u.file or "", u.line or 0, u.name))


# -- before the link: the project's object files ---------------------------------------------

def scan_objects(objects: Iterable[tuple[Path, str]], vectors: Iterable[str]) -> list[Uninstalled]:
    """`objects`: (object file, its source as the project names it). A global function is
    referenced when a relocation in any other section of any object names it."""
    defined: list[tuple[str, str | None, int | None, int | None]] = []
    referenced: set[str] = set()
    for path, source in objects:
        try:
            with path.open("rb") as handle:
                elf = ELFFile(handle)
                symbols = elf.get_section_by_name(".symtab")
                if not isinstance(symbols, SymbolTableSection):
                    continue
                for sym in symbols.iter_symbols():
                    if (sym["st_info"]["type"] == "STT_FUNC" and sym["st_shndx"] != "SHN_UNDEF"
                            and sym["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK")):
                        defined.append((sym.name, source, None, None))
                for section in elf.iter_sections():
                    if not isinstance(section, RelocationSection):
                        continue
                    own = section["sh_info"]
                    for reloc in section.iter_relocations():
                        sym = symbols.get_symbol(reloc["r_info_sym"])
                        if sym.name and sym["st_shndx"] != own:
                            referenced.add(sym.name)
        except (OSError, ELFError, struct.error):
            continue  # not an ELF object (the linker will say so)
    return uninstalled(defined, vectors, referenced)


def source_line(source: Path, name: str) -> int | None:
    """The line of the first `name(` in a C source (for the error's file:line)."""
    try:
        text = source.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(rf"\b{re.escape(name)}\s*\(", text)
    return text.count("\n", 0, match.start()) + 1 if match else None


# -- after the link: the ELF ----------------------------------------------------------------

@dataclass(frozen=True)
class DwarfFunction:
    name: str
    file: str | None
    line: int | None
    has_parameters: bool


def dwarf_functions(lines: LineTable, names: set[str] | None = None) -> list[DwarfFunction]:
    """External function definitions named like handlers, from .debug_info (the linker
    keeps the DIEs of functions it discarded, so these are what the sources defined).
    `names`: only these matter (None: every handler-shaped one); a unit whose bytes can
    name none of them is not parsed (`_unit_filter`)."""
    out: list[DwarfFunction] = []
    try:
        elf = lines.elf()
        if not elf.has_dwarf_info():
            return []
        if any(s.name.startswith((".rel.debug", ".rela.debug")) for s in elf.iter_sections()):
            # A --emit-relocs link (TinyGo) keeps relocations for its debug sections:
            # read them relocated, as pyelftools does by default (and fails where it does).
            dwarf = elf.get_dwarf_info()
            program_of = dwarf.line_program_for_CU
        else:
            dwarf = lines.dwarf()   # the parse the line lookups use too
            program_of = lines.program
        mentions = _unit_filter(elf, dwarf, names)
        for unit in dwarf.iter_CUs():
            if mentions is not None and not mentions(unit):
                continue
            top = unit.get_top_DIE()
            # No .debug_line (objcopy --remove-section): names still count, files do not.
            program = program_of(unit) if dwarf.debug_line_sec is not None else None
            for die in top.iter_children():
                if die.tag != "DW_TAG_subprogram":
                    continue
                attrs = die.attributes
                if "DW_AT_name" not in attrs or "DW_AT_declaration" in attrs:
                    continue
                name = attrs["DW_AT_name"].value.decode("utf-8", "replace")
                if (not looks_like_handler(name, True) or "DW_AT_external" not in attrs
                        or (names is not None and name not in names)):
                    continue
                params = any(c.tag == "DW_TAG_formal_parameter" for c in die.iter_children())
                file = _decl_file(program, attrs, unit["version"])
                line = attrs["DW_AT_decl_line"].value if "DW_AT_decl_line" in attrs else None
                out.append(DwarfFunction(name, file, line, params))
    except (OSError, HardenError, ELFError, struct.error, *DWARF_ERRORS):
        return out  # partial or odd DWARF: what was read stands, the symbol table still counts
    return out


# A string that long ending in "handler" is no function name worth an exact suffix search.
_LONGEST_NAME = 4096


def dwarf_handler_names(lines: LineTable, keep: Callable[[str], bool]) -> set[str] | None:
    """Every string `keep` accepts that a DIE of the DWARF could be named with; None when
    that cannot be told from the bytes (compressed .zdebug sections, an overlong string,
    damaged input).

    A DIE's DW_AT_name is a NUL-terminated string inline in .debug_info (DW_FORM_string,
    after any bytes: every suffix counts) or in .debug_str / .debug_line_str (strp,
    line_strp, strx). The linker merges strings by suffix, so a name may start inside a
    longer string there; such a suffix counts only where its offset is written somewhere
    (.debug_info, .debug_str_offsets). Reading them is a byte search; walking the DIEs
    with pyelftools cost ~0.5 s on a 40 KiB CubeMX firmware."""
    try:
        elf = lines.elf()
        if any(s.name.startswith(".zdebug") for s in elf.iter_sections()):
            return None
        order = "<I" if elf.little_endian else ">I"
        info = elf.get_section_by_name(".debug_info")
        referrers = [sec.data() for sec in (info, elf.get_section_by_name(".debug_str_offsets"))
                     if sec is not None]
        found: set[str] = set()
        for section_name in (".debug_info", ".debug_str", ".debug_line_str"):
            section = elf.get_section_by_name(section_name)
            if section is None:
                continue
            data = section.data()
            lowered = data.lower()
            position = lowered.find(b"handler\0")
            while position >= 0:
                end = position + len(b"handler")
                start = data.rfind(b"\0", 0, position) + 1
                if end - start > _LONGEST_NAME:
                    return None
                for first in range(start, position + 1):
                    name = data[first:end].decode("utf-8", "replace")
                    if name in found or not keep(name):
                        continue
                    if (section_name == ".debug_info" or first == start
                            or any(struct.pack(order, first) in r for r in referrers)):
                        found.add(name)
                position = lowered.find(b"handler\0", end)
        return found
    except (HardenError, ELFError, struct.error, *DWARF_ERRORS):
        return None


def _unit_filter(elf, dwarf, names: set[str] | None):
    """A test `unit -> bool`: whether a compilation unit's bytes can name one of `names`
    (inline, or as the offset of its string in .debug_str / .debug_line_str); None when
    every unit must be read (no names given, or DWARF 5 string indexes, DW_FORM_strx,
    which point through .debug_str_offsets). A unit that passes is parsed in full, so a
    false match costs time, never a finding."""
    if names is None or elf.get_section_by_name(".debug_str_offsets") is not None:
        return None
    order = "<I" if elf.little_endian else ">I"
    needles: set[bytes] = set()
    for name in names:
        raw = name.encode("utf-8")
        needles.add(raw + b"\0")
        for section_name in (".debug_str", ".debug_line_str"):
            section = elf.get_section_by_name(section_name)
            if section is None:
                continue
            data = section.data()
            at = data.find(raw + b"\0")
            while at >= 0:
                # The low 32 bits of the offset, as DWARF32 stores it and DWARF64 starts it.
                needles.add(struct.pack(order, at & 0xFFFFFFFF))
                at = data.find(raw + b"\0", at + 1)
    info = dwarf.debug_info_sec.stream.getvalue()

    def mentions(unit) -> bool:
        chunk = info[unit.cu_offset:unit.cu_offset + unit.size]
        return any(needle in chunk for needle in needles)
    return mentions


def _decl_file(program, attrs, version: int) -> str | None:
    if program is None or "DW_AT_decl_file" not in attrs:
        return None
    index = attrs["DW_AT_decl_file"].value
    entries = program["file_entry"]
    position = index if version >= 5 else index - 1
    if not 0 <= position < len(entries):
        return None
    entry = entries[position]
    name = entry.name.decode("utf-8", "replace")
    directories = program["include_directory"]
    dir_index = entry.dir_index if version >= 5 else entry.dir_index - 1
    if not name.startswith("/") and 0 <= dir_index < len(directories) and (version >= 5 or entry.dir_index):
        directory = directories[dir_index].decode("utf-8", "replace")
        if directory and not directory.startswith("/"):
            name = f"{directory}/{name}"
    return name


def scan_elf(lines: LineTable, functions: Iterable[tuple[str, int]], vectors: Iterable[str],
             referenced: set[str], address_words: Callable[[], set[int]]) -> list[Uninstalled]:
    """`lines`: the ELF's DWARF reader; `functions`: (name, address) of every function
    symbol of the ELF; `referenced`: names the call graph reaches; `address_words`: makes
    the set of every 32-bit word of the image's allocated sections outside the vector
    table (an address taken)."""
    by_name = dict(functions)
    vector_set = set(vectors)
    lower_case = any(v.endswith("_handler") for v in vector_set)

    def candidate(name: str) -> bool:   # uninstalled()'s test, before DWARF and data words
        return (name not in vector_set and name not in referenced
                and looks_like_handler(name, lower_case))
    # Each name is judged on its own, and DWARF and the address words can only take
    # candidates away (parameters, an address taken) or add file:line. So when no symbol
    # and no string the DWARF can name a function with is a candidate, there is nothing
    # to find, and the DIEs stay unread; otherwise only the units that can name one are.
    strings = dwarf_handler_names(lines, candidate)
    candidates = {name for name in by_name if candidate(name)} | (strings or set())
    if strings is not None and not candidates:
        return []
    dwarf = {f.name: f for f in dwarf_functions(lines, candidates if strings is not None
                                                else None)}
    words = address_words()
    seen_refs = set(referenced) | {name for name, address in by_name.items()
                                   if address in words or address | 1 in words}
    defined: list[tuple[str, str | None, int | None, int | None]] = []
    for name, address in by_name.items():
        info = dwarf.get(name)
        if info is not None and info.has_parameters:
            continue
        defined.append((name, info.file if info else None, info.line if info else None, address))
    for name, info in dwarf.items():
        if name not in by_name and not info.has_parameters:
            defined.append((name, info.file, info.line, None))
    return uninstalled(defined, vector_set, seen_refs)


def _address_words(image, start: int, end: int) -> set[int]:
    """Every aligned 32-bit little-endian word of the allocated sections, outside the
    vector table [start, end): each offset 0, 4, 8, ... of a section, as stored."""
    words: set[int] = set()
    for section in image.sections:
        data = section.data
        usable = len(data) - len(data) % 4
        if usable <= 0:
            continue
        # The table's words are skipped by slicing them out (whole words: both bounds are
        # counted from the section's start in steps of 4 where they fall inside it).
        lo = min(max(start - section.address, 0), usable)
        hi = min(max(end - section.address, 0), usable)
        lo, hi = -(-lo // 4) * 4, -(-hi // 4) * 4
        for first, last in ((0, lo), (hi, usable)) if lo < hi else ((0, usable),):
            if last > first:
                words.update(struct.unpack_from(f"<{(last - first) // 4}I", data, first))
    return words


def vector_names(profile) -> set[str]:
    """The handler names the board's vendor table installs (for the suggestion)."""
    if profile is None or profile.interrupts.external:
        return set()
    return {profile.interrupts.handler_of(i) for i in range(profile.interrupts.irq_count)}


def check_image(image, profile, table, graph, roots=()) -> list[Uninstalled]:
    """verify's entry: the table's own names (every alias of every entry) and the handlers
    installed at run time (`roots`, installed.py) are the vectors; what the call graph
    reaches or a data word points at is referenced. No table found: nothing to compare
    with (verify reports the missing table itself)."""
    installed = {name for root in (*table.roots, *roots) for name in root.function.names}
    if not installed:
        return []
    if table.thread is not None:
        installed.update(table.thread.function.names)
    referenced = {name for edges in graph.edges.values() for edge in edges
                  for name in graph.function(edge.callee).names}
    functions = [(name, f.address) for f in image.functions for name in f.names]
    found = scan_elf(LineTable.of(image), functions, installed, referenced,
                     lambda: _address_words(image, table.address, table.address + 4 * table.entries))
    # The suggestion may come from the board's vendor names too: a stand-in start-up file
    # may name only some lines (IRQ38_Handler), the vendor's names all of them.
    suggestions = installed | vector_names(profile)
    return [Uninstalled(u.name, closest_vector(u.name, suggestions), u.file, u.line, u.address)
            for u in found]
