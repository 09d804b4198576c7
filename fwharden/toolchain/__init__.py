"""Find compilers and turn a Profile into their flags and command lines.

Must not read TOML or the ELF; it receives a Profile and returns values. Names other
than ToolchainError are loaded on first use (PEP 562), so the CLI's error handling does
not import the compiler discovery.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value
