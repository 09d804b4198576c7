"""Everything after the link: ELF image, memory use, and the interrupt-safety proof.

Reads the ELF; never reads TOML, never prints.
"""

from .elf.image import open_elf
from .errors import HardenError
from .report.usage import RegionUsage, describe_usage, outside_regions, placed_sections, region_usage

__all__ = [
    "HardenError",
    "RegionUsage",
    "describe_usage",
    "open_elf",
    "outside_regions",
    "placed_sections",
    "region_usage",
]
