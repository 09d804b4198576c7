"""The on-target runtime: C and assembly sources compiled into every firmware.

The Python side only names the files for a CPU family; the sources themselves depend on
nothing but the linker script's symbols.
"""

from __future__ import annotations

from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent

_SOURCES = {
    "arm": ("common/init.c", "common/console.c", "common/stackmap.c", "common/init_runtime.c",
            "common/fault_line.c", "common/handoff.c", "common/cycles.c",
            "cortex_m/startup.c", "cortex_m/guard.c"),
    "riscv": ("common/init.c", "common/console.c", "common/stackmap.c", "common/init_runtime.c",
              "common/fault_line.c", "common/handoff.c", "common/cycles.c",
              "riscv/start.S", "riscv/trap.c", "riscv/guard.c"),
}


def runtime_sources(family: str, console_setup: str = "") -> list[Path]:
    """Start-up and console sources for `family` ("arm" or "riscv"), and the board's
    console set-up (resets, clocks, pins) when the profile names one."""
    extra = (f"{console_setup}/console_setup.c",) if console_setup else ()
    return [RUNTIME_DIR / name for name in (*_SOURCES[family], *extra)]


def boot2_source(kind: str) -> Path:
    """The second-stage boot assembly for placement.boot2 = `kind` (e.g. "rp2040")."""
    return RUNTIME_DIR / kind / "boot2.S"


def include_dir() -> Path:
    """Directory holding fwharden.h."""
    return RUNTIME_DIR
