"""Per-region memory use of a linked firmware, read from the ELF's section headers.

Each allocated section counts in the region that holds its run-time address; a section
that is loaded from elsewhere (.data: runs in RAM, stored in flash) also counts in the
region of its load address, which the program headers give. Only regions come from the
profile; every size comes from the ELF.
"""

from __future__ import annotations

from dataclasses import dataclass

from fwharden.board_profiles import Profile
from fwharden.harden.elf.image import Image


@dataclass(frozen=True)
class RegionUsage:
    """Bytes of one memory region taken by the firmware."""

    name: str
    origin: int
    length: int
    used: int
    sections: tuple[str, ...]

    @property
    def percent(self) -> float:
        return 100.0 * self.used / self.length


@dataclass(frozen=True)
class PlacedSection:
    """An allocated section with its run-time (VMA) and load (LMA) address."""

    name: str
    address: int
    load_address: int
    size: int
    loaded: bool  # has file contents (PROGBITS), so it is stored at load_address


def placed_sections(image: Image) -> list[PlacedSection]:
    """Allocated, non-empty sections of the ELF with their load addresses."""
    return [PlacedSection(sec.name, sec.address, sec.lma, sec.size, bool(sec.data))
            for sec in image.sections]


def region_usage(image: Image, profile: Profile) -> list[RegionUsage]:
    """Use of every region of the profile, in address order."""
    sections = placed_sections(image)
    usage = []
    for region in profile.memory:
        used = 0
        names = []
        for sec in sections:
            if region.contains(sec.address, sec.size):
                used += sec.size
                names.append(sec.name)
            elif sec.loaded and sec.load_address != sec.address and region.contains(
                    sec.load_address, sec.size):
                used += sec.size
                names.append(f"{sec.name} (load)")
        usage.append(RegionUsage(region.name, region.origin, region.length, used, tuple(names)))
    return usage


def outside_regions(image: Image, profile: Profile) -> list[PlacedSection]:
    """Sections whose run-time or load address range is not inside one profile region."""
    def inside(start: int, size: int) -> bool:
        return any(region.contains(start, size) for region in profile.memory)

    return [sec for sec in placed_sections(image)
            if not inside(sec.address, sec.size)
            or (sec.loaded and not inside(sec.load_address, sec.size))]


def _human(size: int) -> str:
    if size >= 1 << 20 and size % (1 << 20) == 0:
        return f"{size >> 20} MiB"
    if size >= 1 << 10:
        return f"{size / 1024:.1f} KiB" if size % 1024 else f"{size >> 10} KiB"
    return f"{size} B"


def describe_usage(usage: list[RegionUsage]) -> str:
    """The table printed after a build and by `fwharden size`."""
    lines = [f"{'region':<12} {'origin':>10} {'used':>10} {'total':>10} {'use':>7}"]
    for item in usage:
        lines.append(f"{item.name:<12} 0x{item.origin:08x} {_human(item.used):>10} "
                     f"{_human(item.length):>10} {item.percent:6.1f}%")
    return "\n".join(lines) + "\n"
