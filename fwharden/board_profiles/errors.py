"""The one exception type for bad configuration input (board profiles and firmware.toml).

Every failure names the file, the key and a fix, so the CLI and the SCons tool can print it
as one line and exit 2 without a traceback.
"""

from __future__ import annotations

from pathlib import Path


class ConfigError(Exception):
    """A configuration file is wrong: where, which key, what is wrong, and how to fix it."""

    def __init__(self, path: Path | str, key: str, problem: str, fix: str) -> None:
        self.path = Path(path)
        self.key = key
        self.problem = problem
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = f"{self.path}: {self.key}" if self.key else str(self.path)
        return f"{where}: {self.problem}; fix: {self.fix}"


class ProfileError(ConfigError):
    """A board profile (`fwharden/board_profiles/*.toml` or a project's own) is invalid."""


class ProjectError(ConfigError):
    """A project file (`firmware.toml`) is invalid."""
