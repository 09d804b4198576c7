"""Everything after the link: ELF image, memory use, and (later) the interrupt-safety proof.

Reads the ELF; never reads TOML, never prints.
"""

from .errors import HardenError
from .image import open_elf
from .usage import RegionUsage, describe_usage, outside_regions, placed_sections, region_usage

__all__ = [
    "HardenError",
    "RegionUsage",
    "describe_usage",
    "open_elf",
    "outside_regions",
    "placed_sections",
    "region_usage",
]
