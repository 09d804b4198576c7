"""Argument lists for the flash tools and GDB servers, from a profile's [flash]/[debug].

Every command is a list handed to the program directly, never to a shell. OpenOCD reads
its `-c` arguments as Tcl, so a file name goes inside braces (Tcl's literal quoting) and a
name that could break out of them is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from fwharden.board_profiles.probe import EspToolConfig, OpenOcdConfig, PyOcdConfig

from .errors import FlashError

# Inside {...} Tcl substitutes nothing; only a brace or a backslash could end the word early.
_TCL_UNSAFE = re.compile(r"[{}\\\n\r]")


def tcl_word(path: Path) -> str:
    """`path` as one literal Tcl word."""
    text = str(path)
    if _TCL_UNSAFE.search(text):
        raise FlashError(f"{text}: OpenOCD takes file names as Tcl words; this one contains a "
                         "brace, backslash or newline; fix: build in a directory without them")
    return "{" + text + "}"


def openocd_config_args(config: OpenOcdConfig) -> list[str]:
    """OpenOCD's configuration stage: `-f` for scripts (`.cfg`), `-c` for commands."""
    args: list[str] = []
    for item in config.config:
        args += ["-f", item] if item.endswith(".cfg") else ["-c", item]
    return args


# OpenOCD's servers, closed: a flash or a check must not take ports another session
# uses (they are set before the scripts, since a board script may call init itself).
NO_SERVERS = ["-c", "gdb_port disabled", "-c", "tcl_port disabled", "-c", "telnet_port disabled"]


def openocd_flash_command(openocd: str, config: OpenOcdConfig, elf: Path) -> list[str]:
    """Write, verify against the file, reset and exit (OpenOCD manual 16.1 `program`)."""
    return [openocd, *NO_SERVERS, *openocd_config_args(config),
            "-c", f"program {tcl_word(elf.resolve())} verify reset exit"]


def openocd_server_command(openocd: str, config: OpenOcdConfig, port: int) -> list[str]:
    """OpenOCD as a GDB server on `port` (GDB's `load` then writes the flash)."""
    return [openocd, "-c", f"gdb_port {port}", "-c", "tcl_port disabled",
            "-c", "telnet_port disabled", *openocd_config_args(config)]


def openocd_check_command(openocd: str, config: OpenOcdConfig) -> list[str]:
    """Parse the configuration, then stop before init (where the probe is opened)."""
    return [openocd, *NO_SERVERS, *openocd_config_args(config), "-c", "shutdown"]


def pyocd_flash_command(pyocd: list[str], config: PyOcdConfig, elf: Path,
                        probe: str | None = None) -> list[str]:
    """`pyocd load`: programs the ELF's segments and resets. -W: fail at once when no
    probe is connected instead of waiting for one."""
    command = [*pyocd, "load", "-W", "--target", config.target]
    if config.frequency:
        command += ["--frequency", config.frequency]
    if probe:
        command += ["--uid", probe]
    return [*command, "--format", "elf", str(elf)]


def pyocd_server_command(pyocd: list[str], config: PyOcdConfig, port: int,
                         probe: str | None = None) -> list[str]:
    command = [*pyocd, "gdbserver", "-W", "--target", config.target, "--port", str(port)]
    if config.frequency:
        command += ["--frequency", config.frequency]
    if probe:
        command += ["--uid", probe]
    return command


@dataclass(frozen=True)
class EspToolSteps:
    """esptool turns the ELF into the ROM loader's image format, then writes it."""

    image: Path
    elf2image: list[str]
    write_flash: list[str]


def esptool_commands(esptool: list[str], config: EspToolConfig, elf: Path,
                     port: str | None = None) -> EspToolSteps:
    """esptool 5 spelling (`write-flash`); without a port esptool tries every serial port."""
    image = elf.with_name(f"{elf.stem}-{config.chip}.bin")
    convert = [*esptool, "--chip", config.chip, "elf2image", "--output", str(image), str(elf)]
    write = [*esptool, "--chip", config.chip]
    if port:
        write += ["--port", port]
    write += ["--baud", str(config.baud), "--after", "hard-reset", "write-flash",
              f"0x{config.offset:x}", str(image)]
    return EspToolSteps(image=image, elf2image=convert, write_flash=write)


def picotool_command(picotool: str, elf: Path) -> list[str]:
    """picotool loads an ELF into an RP2040 in BOOTSEL mode: -v verify, -x run it."""
    return [picotool, "load", "-v", "-x", str(elf)]


def qemu_gdb_command(qemu: list[str], port: int) -> list[str]:
    """QEMU's own command line plus its GDB stub: `-S` (stopped at reset) and
    `-gdb tcp::PORT` (`-s` is the same with port 1234), bound to the loopback interface."""
    return [*qemu, "-S", "-gdb", f"tcp:127.0.0.1:{port}"]
