"""Find compilers and turn a Profile into their flags and command lines.

Must not read TOML or the ELF; it receives a Profile and returns values. Names other
than ToolchainError are loaded on first use (PEP 562), so the CLI's error handling does
not import the compiler discovery.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwharden.lazy import lazy_attributes

from .errors import ToolchainError

if TYPE_CHECKING:
    from .discover import PACKAGES, Toolchain, find_toolchain, version_line
    from .flags import Flags, arch_flags, board_defines, build_flags, gcc_multilib_flags

_HOMES = {
    **dict.fromkeys(("PACKAGES", "Toolchain", "find_toolchain", "version_line"), "discover"),
    **dict.fromkeys(("Flags", "arch_flags", "board_defines", "build_flags",
                     "gcc_multilib_flags"), "flags"),
}

__all__ = [
    "PACKAGES",
    "Flags",
    "Toolchain",
    "ToolchainError",
    "arch_flags",
    "board_defines",
    "build_flags",
    "find_toolchain",
    "gcc_multilib_flags",
    "version_line",
]


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, __all__)
