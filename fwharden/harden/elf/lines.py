"""Address -> source file:line from the DWARF line tables (DWARF 4 and 5).

Decoding every line program of a large firmware takes seconds with pyelftools, while a
report needs a handful of addresses. So `.debug_aranges` maps an address to its
compilation unit and only that unit's line program is decoded (once, then cached); a
file without aranges falls back to decoding every unit.
"""

from __future__ import annotations

import bisect
import posixpath
from pathlib import Path

from fwharden.harden.elf.image import PARSE_ERRORS, Image, parse_elf, read_elf_bytes
from fwharden.harden.errors import HardenError
from fwharden.inputs import printable

# pyelftools checks DWARF structure with assert, and damaged attribute forms and opcodes
# surface as NotImplementedError, AttributeError or TypeError (a None where a header field
# should be); a DIE tree that points back at itself as RecursionError. All are bad input.
DWARF_ERRORS = (*PARSE_ERRORS, AssertionError, NotImplementedError, AttributeError, TypeError,
                RecursionError, OverflowError, ZeroDivisionError)


def _decode(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


class LineTable:
    """Looks addresses up in one ELF's line tables; decode work happens on first use."""

    def __init__(self, path: Path, data: bytes | None = None) -> None:
        self.path = path
        self._data = data   # the file's bytes when the caller already read them
        self._units: dict[int, list[tuple[int, str, int]]] = {}
        self._all: list[tuple[int, str, int]] | None = None
        self._dwarf = None  # DWARFInfo, or False when the ELF has no line table
        self._keys: list[int] = []
        self._entries: list[tuple[int, int, int]] = []  # (start, end, unit offset), aranges
        self._programs: dict[int, object] = {}
        self._elf = None
        self._info = None   # DWARFInfo, or False when the ELF has no DWARF

    @classmethod
    def of(cls, image: Image) -> LineTable:
        """The line table of an already loaded image: its bytes are not read again, and
        every caller asking for the same image shares one table (one DWARF parse, each
        unit's rows decoded once)."""
        table = image._lines
        if not isinstance(table, cls):
            table = cls(image.path, image.raw or None)
            image._lines = table
        return table

    def elf(self):
        """The ELFFile over the file's bytes (parsed once; HardenError if it is none)."""
        if self._elf is None:
            self._elf = parse_elf(self.path, read_elf_bytes(self.path) if self._data is None
                                  else self._data)
        return self._elf

    def dwarf(self):
        """The DWARFInfo of the file, or None when it has none (a missing .debug_line
        still gives one: its DIEs name functions). Debug sections are not relocated: a
        linked firmware's hold final addresses; the .rel.debug_* a --emit-relocs link
        keeps (TinyGo's, with R_ARM_NONE) are a record, not work left to do, and the
        search for them walks every section header once per debug section. Raises
        pyelftools' errors (DWARF_ERRORS) on damaged input, for the caller to judge."""
        if self._info is None:
            elf = self.elf()
            self._info = (elf.get_dwarf_info(relocate_dwarf_sections=False)
                          if elf.has_dwarf_info() else False)
        return self._info or None

    def program(self, unit):
        """The line program of a compilation unit, parsed once per table."""
        offset = unit.cu_offset
        if offset not in self._programs:
            dwarf = self.dwarf()
            self._programs[offset] = None if dwarf is None else dwarf.line_program_for_CU(unit)
        return self._programs[offset]

    def lookup(self, address: int) -> tuple[str, int] | None:
        """(file, line) of `address`; None where the ELF has no line table for it.
        HardenError naming the file when the DWARF is damaged."""
        try:
            rows = self._rows_for(address)
        except DWARF_ERRORS as exc:
            detail = printable(f"{type(exc).__name__}: {exc}" if str(exc) else
                               type(exc).__name__)
            raise HardenError(f"{self.path}: damaged DWARF debug information ({detail}); "
                              "fix: rebuild, or strip the debug sections (-g0)") from None
        index = bisect.bisect_right(rows, (address, "\U0010ffff", 1 << 30)) - 1
        if index < 0:
            return None
        _, name, line = rows[index]
        return None if line == 0 else (name, line)

    def _open(self) -> None:
        # One DWARFInfo over the file's bytes, its aranges read once and each unit's rows
        # decoded once: opening the file and building DWARFInfo per lookup cost ~100 ms.
        if self._dwarf is None:
            self._dwarf = self.dwarf() or False
            if self._dwarf is not False and self._dwarf.debug_line_sec is None:
                self._dwarf = False   # objcopy --remove-section .debug_line
            if self._dwarf is not False:
                try:
                    aranges = self._dwarf.get_aranges()
                except BaseException:
                    # Damaged aranges: every later lookup must fail alike, not fall back
                    # to a full decode after the first one raised.
                    self._dwarf = None
                    raise
                self._entries = sorted((e.begin_addr, e.begin_addr + e.length, e.info_offset)
                                       for e in (aranges.entries if aranges is not None else ()))
                self._keys = [e[0] for e in self._entries]

    def _rows_for(self, address: int) -> list[tuple[int, str, int]]:
        self._open()
        if self._dwarf is False:
            return []
        dwarf = self._dwarf
        index = bisect.bisect_right(self._keys, address) - 1
        if index >= 0 and self._entries[index][0] <= address < self._entries[index][1]:
            offset = self._entries[index][2]
            if offset not in self._units:
                self._units[offset] = sorted(_unit_rows(self.program(dwarf.get_CU_at(offset))))
            return self._units[offset]
        if self._all is None:
            self._all = sorted(row for unit in dwarf.iter_CUs()
                               for row in _unit_rows(self.program(unit)))
        return self._all


def _unit_rows(program) -> list[tuple[int, str, int]]:
    if program is None:
        return []
    version = program.header["version"]
    dirs = program.header["include_directory"]
    names = {}
    # DWARF 5 numbers files and directories from 0, earlier versions from 1.
    for number, entry in enumerate(program.header["file_entry"], start=0 if version >= 5 else 1):
        name = _decode(entry.name)
        index = entry.dir_index
        if version < 5:
            directory = _decode(dirs[index - 1]) if index > 0 else ""
        else:
            directory = _decode(dirs[index]) if index < len(dirs) else ""
        names[number] = (name if posixpath.isabs(name) or not directory
                         else posixpath.join(directory, name))
    rows = []
    sequence: list[tuple[int, str, int]] = []
    for entry in program.get_entries():
        state = entry.state
        if state is None:
            continue
        if state.end_sequence:
            # A sequence of code the linker discarded (--gc-sections) keeps its rows at
            # address 0 (or a tombstone); it would shadow real code, so it is dropped.
            if sequence and 0 < sequence[0][0] < 0xFFFFFFF0:
                rows.extend(sequence)
                rows.append((state.address, "", 0))
            sequence = []
        else:
            sequence.append((state.address, names.get(state.file, "?"), state.line))
    return rows


def load_lines(path: Path) -> LineTable:
    return LineTable(path)
