"""The board catalog (`*.toml`, family defaults in `families/`) and the Profile model.

Public surface: `load_profile`, `list_boards`, `Profile` and its parts, `ProfileError`.
"""

from .errors import ConfigError, ProfileError, ProjectError
from .loader import check_semantics, find_profile, list_boards, load_profile, profile_from_data
from .model import Cpu, Interrupts, MemoryRegion, Placement, Profile, Protection, Qemu, StackPolicy

__all__ = [
    "ConfigError",
    "Cpu",
    "Interrupts",
    "MemoryRegion",
    "Placement",
    "Profile",
    "ProfileError",
    "ProjectError",
    "Protection",
    "Qemu",
    "StackPolicy",
    "check_semantics",
    "find_profile",
    "list_boards",
    "load_profile",
    "profile_from_data",
]
