"""Address -> source file:line from the DWARF line tables (DWARF 4 and 5).

Built once per report and only when a finding needs a location, because decoding every
line program of a large firmware costs more than the rest of the analysis.
"""

from __future__ import annotations

import bisect
import posixpath
from dataclasses import dataclass
from pathlib import Path

from .image import _PARSE_ERRORS, open_elf


@dataclass(frozen=True)
class LineTable:
    rows: list[tuple[int, str, int]]   # (address, file, line), sorted; line 0 = end of sequence

    def lookup(self, address: int) -> tuple[str, int] | None:
        index = bisect.bisect_right(self.rows, (address, "\U0010ffff", 1 << 30)) - 1
        if index < 0:
            return None
        _, name, line = self.rows[index]
        return None if line == 0 else (name, line)


def _decode(value: object) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def load_lines(path: Path) -> LineTable:
    """All line-table rows of the ELF; an empty table if it has no DWARF."""
    rows: list[tuple[int, str, int]] = []
    with open_elf(path) as elf:
        if not elf.has_dwarf_info():
            return LineTable([])
        try:
            dwarf = elf.get_dwarf_info()
            for unit in dwarf.iter_CUs():
                program = dwarf.line_program_for_CU(unit)
                if program is None:
                    continue
                version = program.header["version"]
                files = program.header["file_entry"]
                dirs = program.header["include_directory"]
                names = {}
                for number, entry in enumerate(files, start=0 if version >= 5 else 1):
                    name = _decode(entry.name)
                    dir_index = entry.dir_index
                    if version < 5:
                        directory = _decode(dirs[dir_index - 1]) if dir_index > 0 else ""
                    else:
                        directory = _decode(dirs[dir_index]) if dir_index < len(dirs) else ""
                    names[number] = (name if posixpath.isabs(name) or not directory
                                      else posixpath.join(directory, name))
                for entry in program.get_entries():
                    state = entry.state
                    if state is None:
                        continue
                    if state.end_sequence:
                        rows.append((state.address, "", 0))
                    else:
                        rows.append((state.address, names.get(state.file, "?"), state.line))
        except _PARSE_ERRORS:
            return LineTable(sorted(rows))
    rows.sort()
    return LineTable(rows)
