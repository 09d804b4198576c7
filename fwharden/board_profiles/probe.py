"""The `[flash]` and `[debug]` tables of a board profile: how firmware reaches the board.

Kept apart from the memory/stack model because it describes the bench (which probe, which
tool), not the chip; the flash package turns it into command lines. Nothing here runs a
tool or prints.

```toml
[flash]
tool = "openocd"              # the default: openocd | pyocd | esptool | uf2
probe = "ST-LINK/V3E on the Nucleo board"   # named in the message when none answers

[flash.openocd]               # OpenOCD scripts, in order: a name ending in .cfg is `-f`,
config = ["interface/stlink.cfg", "transport select hla_swd", "target/stm32h7x.cfg"]

[flash.pyocd]                 # the alternative for Cortex-M (`flash_tool=pyocd`)
target = "stm32h743xx"

[flash.esptool]
chip = "esp32c3"
offset = 0x0
baud = 460800

[flash.uf2]
family = 0xE48BFF56           # UF2 family ID (RP2040)
volume = "RPI-RP2"            # Board-ID line of the drive's INFO_UF2.TXT

[debug]
server = "openocd"            # openocd | pyocd | qemu (default: qemu for QEMU boards,
port = 3333                   # else the flash tool when it can serve GDB)
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ProfileError
from .tomlread import Size, parse_size

FLASH_TOOLS = ("openocd", "pyocd", "esptool", "uf2")
DEBUG_SERVERS = ("openocd", "pyocd", "qemu")

FLASH_SCHEMA: dict[str, Any] = {
    "tool": str,
    "probe": str,
    "openocd": {"config": [str]},
    "pyocd": {"target": str, "frequency": str},
    "esptool": {"chip": str, "offset": Size, "baud": int},
    "uf2": {"family": Size, "volume": str},
}
DEBUG_SCHEMA: dict[str, Any] = {"server": str, "port": int, "gdb": str}


@dataclass(frozen=True)
class OpenOcdConfig:
    """OpenOCD's configuration stage, in order: `.cfg` names are files in OpenOCD's
    scripts directory (`-f`), anything else is a configuration command (`-c`)."""

    config: tuple[str, ...]


@dataclass(frozen=True)
class PyOcdConfig:
    target: str
    frequency: str = ""


@dataclass(frozen=True)
class EspToolConfig:
    chip: str
    offset: int = 0
    baud: int = 460800


@dataclass(frozen=True)
class Uf2Config:
    family: int
    volume: str


@dataclass(frozen=True)
class Flash:
    """How to write firmware to the board and which probe that needs."""

    tool: str
    probe: str
    openocd: OpenOcdConfig | None = None
    pyocd: PyOcdConfig | None = None
    esptool: EspToolConfig | None = None
    uf2: Uf2Config | None = None

    def available(self) -> tuple[str, ...]:
        """The tools this board has a table for, default first."""
        have = [name for name in FLASH_TOOLS if getattr(self, name) is not None]
        return tuple(sorted(have, key=lambda name: name != self.tool))


@dataclass(frozen=True)
class Debug:
    """Which GDB server `scons debug` starts and where GDB finds it."""

    server: str
    port: int
    gdb: str = "gdb-multiarch"


def flash_from_data(data: Mapping[str, Any] | None, path: Path) -> Flash | None:
    """The checked [flash] table (the schema walker has already checked key types)."""
    if data is None:
        return None
    openocd = pyocd = esptool = uf2 = None
    if "openocd" in data:
        config = tuple(data["openocd"].get("config", ()))
        if not config:
            raise ProfileError(path, "flash.openocd.config", "is empty",
                               'list the interface and target scripts, e.g. '
                               '["interface/stlink.cfg", "target/stm32h7x.cfg"]')
        openocd = OpenOcdConfig(config=config)
    if "pyocd" in data:
        if "target" not in data["pyocd"]:
            raise ProfileError(path, "flash.pyocd.target", "missing",
                               "give the target type `pyocd list --targets` names")
        pyocd = PyOcdConfig(target=data["pyocd"]["target"],
                            frequency=data["pyocd"].get("frequency", ""))
    if "esptool" in data:
        if "chip" not in data["esptool"]:
            raise ProfileError(path, "flash.esptool.chip", "missing", 'write chip = "esp32c3"')
        table = data["esptool"]
        esptool = EspToolConfig(chip=table["chip"], offset=parse_size(table.get("offset", 0)) or 0,
                                baud=table.get("baud", 460800))
    if "uf2" in data:
        table = data["uf2"]
        if "family" not in table:
            raise ProfileError(path, "flash.uf2.family", "missing",
                               "give the UF2 family ID (0xE48BFF56 for the RP2040)")
        uf2 = Uf2Config(family=parse_size(table["family"]) or 0,
                        volume=table.get("volume", "RPI-RP2"))
    tools = {"openocd": openocd, "pyocd": pyocd, "esptool": esptool, "uf2": uf2}
    tool = data.get("tool")
    if tool is None:
        raise ProfileError(path, "flash.tool", "missing",
                           f"name the default tool: one of {', '.join(FLASH_TOOLS)}")
    if tool not in FLASH_TOOLS:
        raise ProfileError(path, "flash.tool", f"'{tool}' is not supported",
                           f"use one of: {', '.join(FLASH_TOOLS)}")
    if tools[tool] is None:
        raise ProfileError(path, "flash.tool", f"'{tool}' has no [flash.{tool}] table",
                           f"add [flash.{tool}] or pick a tool the profile configures")
    probe = data.get("probe")
    if not probe:
        raise ProfileError(path, "flash.probe", "missing",
                           "name the probe people plug in, e.g. \"ST-LINK/V2 on the board\"")
    return Flash(tool=tool, probe=probe, **tools)


def debug_from_data(data: Mapping[str, Any] | None, flash: Flash | None, has_qemu: bool,
                    path: Path) -> Debug | None:
    """The [debug] table, defaulted from [qemu] or the flash tool; None: no GDB server."""
    data = data or {}
    server = data.get("server")
    if server is None:
        if has_qemu:
            server = "qemu"
        elif flash is not None and flash.tool in ("openocd", "pyocd"):
            server = flash.tool
        elif flash is not None and flash.openocd is not None:
            server = "openocd"
        else:
            return None
    if server not in DEBUG_SERVERS:
        raise ProfileError(path, "debug.server", f"'{server}' is not supported",
                           f"use one of: {', '.join(DEBUG_SERVERS)}")
    if server == "qemu" and not has_qemu:
        raise ProfileError(path, "debug.server", "'qemu' needs a [qemu] table",
                           "use openocd or pyocd for a real board")
    if server in ("openocd", "pyocd") and (flash is None or getattr(flash, server) is None):
        raise ProfileError(path, "debug.server", f"'{server}' has no [flash.{server}] table",
                           f"add [flash.{server}] with the probe's configuration")
    # QEMU's -s listens on 1234; OpenOCD and pyOCD serve GDB on 3333 by default.
    port = data.get("port", 1234 if server == "qemu" else 3333)
    if not 0 < port < 65536:
        raise ProfileError(path, "debug.port", f"{port} is not a TCP port", "use 1..65535")
    return Debug(server=server, port=port, gdb=data.get("gdb", "gdb-multiarch"))


def probe_to_dict(flash: Flash | None, debug: Debug | None) -> dict[str, Any]:
    """[flash] and [debug] as JSON-ready data (for `fwharden board show --json`)."""
    return {
        "flash": None if flash is None else {
            "tool": flash.tool, "probe": flash.probe, "tools": list(flash.available()),
            "openocd": list(flash.openocd.config) if flash.openocd else None,
            "pyocd": flash.pyocd.target if flash.pyocd else None,
            "esptool": flash.esptool.chip if flash.esptool else None,
            "uf2": flash.uf2.volume if flash.uf2 else None},
        "debug": None if debug is None else {"server": debug.server, "port": debug.port,
                                             "gdb": debug.gdb},
    }


def describe_probe(flash: Flash | None, debug: Debug | None) -> str:
    """Two lines for `fwharden board show`: how the board is flashed and debugged."""
    lines = []
    if flash is None:
        lines.append("  flash       none (no [flash] table)")
    else:
        others = [t for t in flash.available() if t != flash.tool]
        lines.append(f"  flash       {flash.tool} through {flash.probe}"
                     + (f"; also {', '.join(others)}" if others else ""))
    if debug is not None:
        lines.append(f"  debug       {debug.server} GDB server on port {debug.port}, {debug.gdb}")
    return "\n".join(lines) + "\n"
