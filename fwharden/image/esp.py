"""Espressif app image: the file the ESP32-C3's 2nd-stage bootloader loads.

The format (ESP-IDF "App image format": a 24-byte header with magic 0xE9, segments of
load address + length + bytes, a checksum byte, a SHA-256 digest) is written by Espressif's
own esptool (PyPI), not by hand: `esptool --chip esp32c3 elf2image --use-segments`.
`--use-segments` makes it take the ELF's PT_LOAD segments at their load addresses, so an
image is exactly what the linker placed (sections would lose .data's load address).
"""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path


class EspImageError(Exception):
    """esptool is missing or refused the ELF: one line naming the file and the fix."""


def esptool_command() -> list[str]:
    """esptool from this interpreter's environment (pip install esptool), else PATH."""
    if importlib.util.find_spec("esptool") is not None:
        return [sys.executable, "-m", "esptool"]
    found = shutil.which("esptool") or shutil.which("esptool.py")
    if found is None:
        raise EspImageError("esptool is not installed, so no ESP app image can be written; "
                            "fix: pip install esptool (./bootstrap does)")
    return [found]


def elf2image_command(esptool: list[str], chip: str, elf: Path, output: Path) -> list[str]:
    """The esptool 5 command line that turns `elf` into the app image `output`."""
    # DIO: the flash mode every ESP32-C3 module's flash supports (esptool write-flash
    # rewrites it for the bootloader; the app image's own header is informational).
    return [*esptool, "--chip", chip, "elf2image", "--use-segments", "--flash-mode", "dio",
            "--output", str(output), str(elf)]


def write_app_image(chip: str, elf: Path, output: Path) -> None:
    """Run esptool's elf2image; EspImageError with esptool's last line if it fails."""
    command = elf2image_command(esptool_command(), chip, elf, output)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise EspImageError(f"{elf}: esptool elf2image did not run ({exc})") from None
    if result.returncode != 0:
        lines = (result.stderr.strip() or result.stdout.strip() or "no output").splitlines()
        raise EspImageError(f"{elf}: esptool elf2image failed: {lines[-1]}")
