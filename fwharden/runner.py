"""Run a firmware under QEMU with semihosting: stream its output, return its exit status.

The board profile's [qemu] table names the machine; semihosting's SYS_EXIT_EXTENDED gives
the firmware's own status (../shared/QEMU-NOTES.md). A wall-clock limit stops a firmware
that never exits.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from fwharden.board_profiles.errors import ConfigError

if TYPE_CHECKING:  # the CLI imports RunError for every command: no catalog model here
    from fwharden.board_profiles import Profile

EXIT_TIMEOUT = 124


class RunError(Exception):
    """The run could not start or did not finish: one line with the fix."""


def qemu_command(profile: Profile, elf: Path) -> list[str]:
    if profile.qemu is None:
        raise ConfigError(profile.source, "qemu", f"board {profile.name} has no [qemu] table",
                          "run it on hardware, or pick mps2-an386, mps2-an500 or sifive-e")
    binary = shutil.which(profile.qemu.binary)
    if binary is None:
        package = "qemu-system-arm" if "arm" in profile.qemu.binary else "qemu-system-misc"
        raise RunError(f"{profile.qemu.binary} not found on PATH; fix: apt-get install {package}")
    return [binary, "-M", profile.qemu.machine, "-nographic", "-monitor", "none",
            "-serial", "stdio", "-semihosting-config", "enable=on,target=native",
            "-kernel", str(elf)]


def run_firmware(profile: Profile, elf: Path, timeout: float, out: TextIO = sys.stdout,
                 err: TextIO = sys.stderr) -> int:
    """Run `elf` to its exit; output goes to `out`/`err` as it arrives."""
    if not elf.is_file():
        raise RunError(f"{elf}: no such firmware; fix: build it first")
    command = qemu_command(profile, elf)
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               stdin=subprocess.DEVNULL, text=True, bufsize=1)
    def pump(source, sink) -> None:
        for line in source:
            sink.write(line)
            sink.flush()

    pumps = [threading.Thread(target=pump, args=(process.stdout, out), daemon=True),
             threading.Thread(target=pump, args=(process.stderr, err), daemon=True)]
    for thread in pumps:
        thread.start()
    try:
        status = process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        for thread in pumps:
            thread.join(timeout=1)
        raise RunError(f"{elf}: still running after {timeout:g} s under {profile.qemu.machine}, "
                       "stopped (hung, or it never calls fwh_exit); fix: look at the output "
                       "above, or raise run_timeout=") from None
    for thread in pumps:
        thread.join(timeout=5)
    return status
