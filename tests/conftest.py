"""Shared fixtures: the real toolchains, a scratch copy of the example, and the ELF reader."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "examples" / "irq-demo"
DATA = Path(__file__).resolve().parent / "data"
GOLDEN = Path(__file__).resolve().parent / "golden"
FIRMWARE = Path(__file__).resolve().parent / "firmware"

ARM_BOARDS = ("stm32h743", "stm32f407", "imxrt1064", "mps2-an386", "mps2-an500", "microbit",
              "lm3s6965evb", "mps2-an505", "netduinoplus2", "rp2040")
RISCV_BOARDS = ("gd32vf103", "fe310", "sifive-e")
ALL_BOARDS = ARM_BOARDS + RISCV_BOARDS
# Boards QEMU runs (a [qemu] table): the runtime is proven on each of them.
QEMU_BOARDS = ("mps2-an500", "mps2-an386", "sifive-e", "microbit", "lm3s6965evb", "mps2-an505",
               "netduinoplus2")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--regen-golden", action="store_true",
                     help="rewrite tests/golden/ from the current generators")


@pytest.fixture
def regen_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--regen-golden"))


def scons(project: Path, *args: str, env: dict[str, str] | None = None,
          check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real scons (from this interpreter's environment) in `project`."""
    result = subprocess.run([sys.executable, "-m", "SCons", "-Q", *args], cwd=project,
                            capture_output=True, text=True, env=env, timeout=300, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"scons {' '.join(args)} failed ({result.returncode}):\n"
                             f"{result.stdout}\n{result.stderr}")
    return result


def fwharden(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the installed `fwharden` console script."""
    exe = Path(sys.executable).parent / "fwharden"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, cwd=cwd,
                          timeout=120, check=False)


def copy_project(source: Path, target: Path) -> Path:
    """A private copy of a project directory, without build output."""
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
        "build", ".sconsign*", "compile_commands.json"))
    return target


def built_copy(source: Path, target: Path, board: str, *args: str) -> Path:
    """Copy a project, build it for `board`, and return the linked ELF."""
    scons(copy_project(source, target), f"board={board}", *args)
    return target / "build" / board / "firmware.elf"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """A private copy of the bundled example (no build output)."""
    return copy_project(EXAMPLE, tmp_path / "irq-demo")


def path_without(*programs: str) -> str:
    """PATH with every directory that holds one of `programs` removed."""
    kept = []
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not any((Path(directory) / p).exists() for p in programs):
            kept.append(directory)
    return os.pathsep.join(kept)
