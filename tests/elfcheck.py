"""Test-side ELF reading with pyelftools, independent of fwharden's own layout code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile


@dataclass(frozen=True)
class Section:
    name: str
    address: int
    load_address: int
    size: int
    loaded: bool


def symbols(path: Path) -> dict[str, int]:
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        table = elf.get_section_by_name(".symtab")
        return {s.name: s["st_value"] for s in table.iter_symbols() if s.name}


def alloc_sections(path: Path) -> list[Section]:
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        loads = [s for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
        out = []
        for sec in elf.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            lma = sec["sh_addr"]
            for seg in loads:
                if seg.section_in_segment(sec):
                    lma = seg["p_paddr"] + sec["sh_addr"] - seg["p_vaddr"]
                    break
            out.append(Section(sec.name, sec["sh_addr"], lma, sec["sh_size"],
                               sec["sh_type"] != "SHT_NOBITS"))
        return out


def read_word(path: Path, address: int) -> int:
    """The 32-bit little-endian word stored at `address` in a loadable section."""
    with path.open("rb") as stream:
        elf = ELFFile(stream)
        for sec in elf.iter_sections():
            start = sec["sh_addr"]
            if sec["sh_type"] == "SHT_PROGBITS" and start <= address < start + sec["sh_size"]:
                data = sec.data()
                offset = address - start
                return int.from_bytes(data[offset:offset + 4], "little")
    raise KeyError(hex(address))
