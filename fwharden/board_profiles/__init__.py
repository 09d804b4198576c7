"""The board catalog (`*.toml`, family defaults in `families/`) and the Profile model.

Public surface: `load_profile`, `list_boards`, `Profile` and its parts, `ProfileError`.

Names other than the errors are loaded on first use (PEP 562): every command of the CLI
imports ConfigError, and only some read the catalog (TOML, the model, the policy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwharden.lazy import lazy_attributes

from .errors import ConfigError, ProfileError, ProjectError

if TYPE_CHECKING:
    from .loader import check_semantics, find_profile, list_boards, load_profile, profile_from_data
    from .model import (
        Cpu,
        Interrupts,
        MemoryRegion,
        Placement,
        Profile,
        Protection,
        Qemu,
        StackPolicy,
    )

_HOMES = {
    **dict.fromkeys(("check_semantics", "find_profile", "list_boards", "load_profile",
                     "profile_from_data"), "loader"),
    **dict.fromkeys(("Cpu", "Interrupts", "MemoryRegion", "Placement", "Profile", "Protection",
                     "Qemu", "StackPolicy"), "model"),
}

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


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, __all__)
