"""Putting firmware on a board and a debugger on it: flashing (OpenOCD, pyOCD, esptool,
UF2/picotool), GDB servers (QEMU, OpenOCD, pyOCD), the generated gdbinit with fwharden's
own GDB commands, and a VS Code launch.json for Cortex-Debug.

Only command lines, file contents and subprocess calls live here; the CLI and the SCons
tool print and exit.
"""

from .errors import FlashError

__all__ = ["FlashError"]
