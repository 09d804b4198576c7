"""The one exception type of the flash package: one line, and the exit status it means."""

from __future__ import annotations

# Bad input or a missing tool (the project's convention), and a tool that ran and failed.
EXIT_BAD_INPUT = 2
EXIT_TOOL_FAILED = 1


class FlashError(Exception):
    """Flashing or debugging could not start or did not succeed: one line with the fix."""

    def __init__(self, message: str, status: int = EXIT_BAD_INPUT) -> None:
        super().__init__(message)
        self.status = status
