"""The largest functions and objects per memory region, from the ELF's symbol table.

What puncover and Zephyr's rom_report/ram_report answer: which symbols take the flash
and the RAM. Sizes are the symbols' st_size (what the compiler and assembler recorded);
a symbol with no size (hand-written assembly without `.size`) is not counted, and the
region's used bytes minus the listed ones is shown as "not in a sized symbol", so the
table never claims to explain bytes it does not. An initialised object (.data) takes RAM at
run time and flash for its initial value: it is listed in both regions, as the section's
load address says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.sections import SymbolTableSection

from fwharden.board_profiles import Profile
from fwharden.harden.elf.image import Image, open_elf
from fwharden.harden.errors import HardenError
from fwharden.harden.report.usage import PlacedSection, placed_sections


@dataclass(frozen=True)
class SymbolSize:
    name: str
    kind: str        # "function" or "object"
    size: int
    address: int     # the address in this region (the load address for a stored copy)
    section: str


@dataclass(frozen=True)
class RegionSymbols:
    region: str
    used: int                      # bytes of the region in use (sections)
    symbols: tuple[SymbolSize, ...]  # largest first
    in_symbols: int                # bytes of all sized symbols in the region

    @property
    def unattributed(self) -> int:
        return max(0, self.used - self.in_symbols)


def _sized_symbols(path: Path, data: bytes | None = None) -> list[tuple[str, str, int, int]]:
    """(name, kind, size, address) of every sized FUNC/OBJECT symbol, duplicates once."""
    seen: set[tuple[int, int]] = set()
    out = []
    with open_elf(path, data) as elf:
        try:
            for section in elf.iter_sections():
                if not isinstance(section, SymbolTableSection):
                    continue
                for sym in section.iter_symbols():
                    kind = {"STT_FUNC": "function", "STT_OBJECT": "object"}.get(
                        sym["st_info"]["type"])
                    size = sym["st_size"]
                    if kind is None or size == 0 or sym["st_shndx"] in ("SHN_UNDEF", "SHN_ABS"):
                        continue
                    # Thumb functions have bit 0 set in their value (ARM IHI 0044 5.5.3).
                    address = sym["st_value"] & ~1 if kind == "function" else sym["st_value"]
                    if (address, size) in seen:  # an alias (weak handler names) counts once
                        continue
                    seen.add((address, size))
                    out.append((sym.name, kind, size, address))
        except ELFError as exc:
            raise HardenError(f"{path}: damaged ELF ({exc})") from None
    return out


def _section_of(sections: list[PlacedSection], address: int) -> PlacedSection | None:
    for sec in sections:
        if sec.address <= address < sec.address + sec.size:
            return sec
    return None


def region_symbols(image: Image, profile: Profile, top: int = 10,
                   used: dict[str, int] | None = None) -> list[RegionSymbols]:
    """The `top` largest sized symbols of every region of the profile, in its order
    (from the loaded image's bytes: the ELF is not read again)."""
    sections = placed_sections(image)
    by_region: dict[str, list[SymbolSize]] = {r.name: [] for r in profile.memory}
    for name, kind, size, address in _sized_symbols(image.path, image.raw or None):
        sec = _section_of(sections, address)
        if sec is None:
            continue
        places = [address]
        if sec.loaded and sec.load_address != sec.address:
            places.append(address - sec.address + sec.load_address)
        for place in places:
            for region in profile.memory:
                if region.contains(place, size):
                    by_region[region.name].append(SymbolSize(name, kind, size, place, sec.name))
    result = []
    for region in profile.memory:
        rows = sorted(by_region[region.name], key=lambda s: (-s.size, s.name))
        in_use = (used or {}).get(region.name)
        if in_use is None:
            in_use = sum(s.size for s in sections if region.contains(s.address, s.size)) + sum(
                s.size for s in sections if s.loaded and s.load_address != s.address
                and region.contains(s.load_address, s.size))
        result.append(RegionSymbols(region.name, in_use, tuple(rows[:top]),
                                    sum(s.size for s in rows)))
    return result


def symbols_to_dict(regions: list[RegionSymbols]) -> list[dict]:
    return [{"region": r.region, "used": r.used, "in_symbols": r.in_symbols,
             "unattributed": r.unattributed,
             "symbols": [{"name": s.name, "kind": s.kind, "size": s.size,
                          "address": s.address, "section": s.section} for s in r.symbols]}
            for r in regions]


def describe_symbols(regions: list[RegionSymbols]) -> str:
    """The largest symbols per region, for `fwharden size --symbols`."""
    lines: list[str] = []
    for r in regions:
        if not r.symbols:
            continue
        lines.append(f"{r.region}: {r.used} B used, largest symbols:")
        for s in r.symbols:
            share = f"{100.0 * s.size / r.used:5.1f}%" if r.used else ""
            lines.append(f"  {s.size:>8} B {share}  {s.kind:<8} {s.name}  ({s.section})")
        lines.append(f"  {r.unattributed:>8} B         not in a sized symbol (padding, "
                     "stacks, unsized assembly)")
    return "\n".join(lines) + ("\n" if lines else "")
