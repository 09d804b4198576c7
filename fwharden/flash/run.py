"""`fwharden flash` / `scons flash`: the verify gate, then the board's flash tool.

A tool that fails (no probe attached, most often) becomes one line that names the probe
the profile says to plug in and the tool's own message, with the tool's exit status kept
apart from fwharden's bad-input status 2.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from fwharden.board_profiles import Profile
from fwharden.board_profiles.probe import Flash

from . import commands, uf2
from .errors import EXIT_TOOL_FAILED, FlashError
from .gate import check_verified

# A flash of a few MB over SWD takes well under a minute; a hung probe must not hang CI.
FLASH_TIMEOUT = 300
_PYOCD_LOG_PREFIX = re.compile(r"^\s*\d+\s+[CEWID]\s+")
_ERROR_LINE = re.compile(r"error|fatal|no .*(probe|device)|not found|unable|failed|could not",
                         re.IGNORECASE)


@dataclass(frozen=True)
class FlashResult:
    tool: str
    commands: tuple[tuple[str, ...], ...]
    output: str
    proof: str              # what let the firmware through the verify gate
    written_to: str = ""    # the UF2 drive, when the firmware was copied


def flash_config(profile: Profile) -> Flash:
    if profile.flash is None:
        if profile.qemu is not None:
            raise FlashError(f"board {profile.name} is emulated by QEMU (-M {profile.qemu.machine}): "
                             f"there is no probe to flash; fix: scons board={profile.name} run, "
                             "or debug")
        raise FlashError(f"{profile.source}: board {profile.name} has no [flash] table; fix: add "
                         "[flash] with tool, probe and the tool's table (see the README)")
    return profile.flash


def pick_tool(flash: Flash, wanted: str | None, profile: Profile) -> str:
    if wanted is None:
        return flash.tool
    if wanted not in flash.available():
        raise FlashError(f"board {profile.name} has no [flash.{wanted}] table; fix: use one of: "
                         f"{', '.join(flash.available())}")
    return wanted


def find_program(names: tuple[str, ...], install: str) -> list[str]:
    """A tool on PATH or beside this Python (fwharden's venv), else a one-line fix."""
    for name in names:
        here = Path(sys.executable).parent / name
        if here.is_file():
            return [str(here)]
        found = shutil.which(name)
        if found:
            return [found]
    raise FlashError(f"{names[0]} not found on PATH or in {Path(sys.executable).parent}; "
                     f"fix: {install}")


def tool_message(output: str) -> str:
    """The lines of a tool's output that say what went wrong, in its own words: the first
    two error lines (OpenOCD's "Error: no device found" is explained by the next one),
    without what follows them (the tool unwinding: "** OpenOCD init failed **")."""
    lines = [_PYOCD_LOG_PREFIX.sub("", line).strip() for line in output.splitlines()]
    lines = [line for line in lines if line]
    picked = [line for line in lines if re.match(r"(error|fatal)\b", line, re.IGNORECASE)]
    if not picked:
        picked = [line for line in lines if _ERROR_LINE.search(line)]
    if not picked:
        return lines[-1] if lines else "no output"
    return "; ".join(dict.fromkeys(picked[:2]))


def _run(command: list[str], tool: str, probe: str, board: str) -> str:
    try:
        result = subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True,
                                text=True, timeout=FLASH_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise FlashError(f"{tool} did not finish flashing {board} within {FLASH_TIMEOUT} s "
                         f"through {probe}; stopped", status=EXIT_TOOL_FAILED) from None
    except OSError as exc:
        raise FlashError(f"{command[0]}: cannot run ({exc.strerror})") from None
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise FlashError(f"{tool} could not flash {board} through {probe}: "
                         f"\"{tool_message(output)}\" ({tool} exit {result.returncode}); "
                         "fix: connect the probe and power the board", status=EXIT_TOOL_FAILED)
    return output


def flash_firmware(profile: Profile, elf: Path, tool: str | None = None,
                   port: str | None = None, uf2_roots: list[Path] | None = None) -> FlashResult:
    """Flash `elf` (which must have passed verify) with the board's tool."""
    flash = flash_config(profile)
    chosen = pick_tool(flash, tool, profile)
    proof = check_verified(elf, profile.name)
    board, probe = profile.name, flash.probe
    if chosen == "openocd":
        assert flash.openocd is not None
        program = find_program(("openocd",), "apt-get install openocd")
        command = commands.openocd_flash_command(program[0], flash.openocd, elf)
        return FlashResult(chosen, (tuple(command),), _run(command, chosen, probe, board), proof)
    if chosen == "pyocd":
        assert flash.pyocd is not None
        program = find_program(("pyocd",), "pip install pyocd (or ./bootstrap, which does)")
        command = commands.pyocd_flash_command(program, flash.pyocd, elf, port)
        return FlashResult(chosen, (tuple(command),), _run(command, chosen, probe, board), proof)
    if chosen == "esptool":
        assert flash.esptool is not None
        program = find_program(("esptool", "esptool.py"),
                               "pip install esptool (or ./bootstrap, which does)")
        steps = commands.esptool_commands(program, flash.esptool, elf, port)
        output = _run(steps.elf2image, chosen, probe, board)
        output += _run(steps.write_flash, chosen, probe, board)
        return FlashResult(chosen, (tuple(steps.elf2image), tuple(steps.write_flash)), output,
                           proof)
    assert flash.uf2 is not None
    return _flash_uf2(flash, elf, board, proof, port, uf2_roots)


def _flash_uf2(flash: Flash, elf: Path, board: str, proof: str, drive: str | None,
               roots: list[Path] | None) -> FlashResult:
    """Copy to the mounted bootloader drive; else picotool, where installed."""
    assert flash.uf2 is not None
    volume = flash.uf2.volume
    search = [Path(drive)] if drive else (roots if roots is not None else uf2.default_roots())
    found = uf2.find_drive(volume, search)
    if found is not None:
        data = uf2.to_uf2(uf2.loadable_bytes(elf), flash.uf2.family)
        target = uf2.copy_to_drive(data, found, f"{elf.stem}.uf2")
        return FlashResult("uf2", (), f"wrote {len(data) // 512} UF2 blocks to {target}\n",
                           proof, written_to=str(found))
    picotool = shutil.which("picotool")
    if picotool is None:
        where = drive or "the mounted drives"
        raise FlashError(f"no {volume} drive found in {where} (no INFO_UF2.TXT with Board-ID: "
                         f"{volume}) and picotool is not installed; looked for {flash.probe}; "
                         "fix: hold BOOTSEL while plugging the board in, or pass its mount "
                         "point (port=DIR / --port DIR)", status=EXIT_TOOL_FAILED)
    command = commands.picotool_command(picotool, elf)
    return FlashResult("picotool", (tuple(command),), _run(command, "picotool", flash.probe, board),
                       proof)


def describe_flash(result: FlashResult, elf: Path, board: str) -> str:
    how = result.tool + (f" ({result.written_to})" if result.written_to else "")
    return f"flashed {elf} to {board} with {how}; {result.proof}\n"
