"""The linked example really boots on the QEMU boards: start-up, stacks and interrupts work.

The example pends a low-priority interrupt three times; its handler pends a high-priority
one. On Cortex-M the high one preempts (nests in) the low one; on RISC-V it runs after it.
Output arrives over semihosting (QEMU's stderr) or the board's UART (its stdout); the exit
status is the firmware's (semihosting exit on every QEMU board).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import scons

from fwharden.board_profiles import load_profile

RUNS = [
    ("mps2-an386", "gcc", "top"),
    ("mps2-an500", "gcc", "top"),
    ("sifive-e", "gcc", "top"),
    ("mps2-an386", "clang", "top"),
    ("mps2-an500", "clang", "top"),
    ("sifive-e", "clang", "top"),
    ("mps2-an500", "gcc", "flip"),
    ("sifive-e", "gcc", "flip"),
    ("microbit", "gcc", "flip"),
    ("microbit", "clang", "flip"),
    ("lm3s6965evb", "gcc", "top"),
    ("lm3s6965evb", "clang", "top"),
    ("mps2-an505", "gcc", "top"),
    ("mps2-an505", "clang", "top"),
    ("netduinoplus2", "gcc", "top"),
    ("netduinoplus2", "clang", "top"),
]


def run_qemu(board: str, elf: Path) -> subprocess.CompletedProcess[str]:
    qemu = load_profile(board).qemu
    assert qemu is not None
    return subprocess.run(
        [qemu.binary, "-M", qemu.machine, "-nographic", "-monitor", "none", "-serial", "stdio",
         "-semihosting-config", "enable=on,target=native", "-kernel", str(elf)],
        capture_output=True, text=True, timeout=30, check=False)


@pytest.mark.parametrize(("board", "toolchain", "layout"), RUNS,
                         ids=[f"{b}-{t}-{layout}" for b, t, layout in RUNS])
def test_example_runs_in_qemu(example: Path, board: str, toolchain: str, layout: str) -> None:
    scons(example, f"board={board}", f"toolchain={toolchain}", f"layout={layout}")
    result = run_qemu(board, example / "build" / board / "firmware.elf")
    assert result.returncode == 0, result.stderr
    profile = load_profile(board)
    nested = "3" if profile.cpu.family == "arm" else "0"
    # Semihosting output arrives on QEMU's stderr, a UART console's on its stdout.
    output = result.stderr if profile.console.kind == "semihosting" else result.stdout
    assert f"irq-demo on {board}: low=3 high=3 nested={nested}" in output
