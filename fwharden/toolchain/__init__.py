"""Find compilers and turn a Profile into their flags and command lines.

Must not read TOML or the ELF; it receives a Profile and returns values.
"""

from .discover import PACKAGES, Toolchain, find_toolchain, version_line
from .errors import ToolchainError
from .flags import Flags, arch_flags, board_defines, build_flags, gcc_multilib_flags

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
