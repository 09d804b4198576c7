"""The toolchain's one error type: a missing or unusable program, or an unsupported combination."""


class ToolchainError(Exception):
    """One line naming the program (or option) and the fix."""
