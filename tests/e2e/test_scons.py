"""The SCons tool's behaviour around the build: errors, overrides, cleaning, rebuilds."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import path_without, scons
from elfcheck import symbols

from fwharden.board_profiles import list_boards, load_profile


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def test_unknown_board_is_one_line_listing_the_boards(example: Path) -> None:
    result = scons(example, "board=nosuch", check=False)
    assert result.returncode != 0
    line = _one_error_line(result.stderr)
    assert "board 'nosuch': unknown board" in line
    assert all(board in line for board in list_boards())
    assert not (example / "build").exists()


def test_missing_cross_compiler_names_the_debian_package(example: Path) -> None:
    env = {**os.environ, "PATH": path_without("arm-none-eabi-gcc")}
    result = scons(example, "board=stm32h743", env=env, check=False)
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert "arm-none-eabi-gcc not found" in line
    assert "apt-get install gcc-arm-none-eabi" in line


def test_missing_tinygo_is_one_clear_line(example: Path) -> None:
    env = {**os.environ, "PATH": path_without("tinygo")}
    result = scons(example, "board=stm32h743", "toolchain=tinygo", env=env, check=False)
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert "tinygo not found" in line and "tinygo.org" in line


def test_bad_firmware_toml_names_file_and_key(example: Path) -> None:
    toml = example / "firmware.toml"
    toml.write_text(toml.read_text().replace('opt = "2"', 'opt = "fast"'))
    result = scons(example, check=False)
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert f"{toml}: project.opt: 'fast' is not supported" in line


def test_bad_stack_override_names_the_command_line(example: Path) -> None:
    result = scons(example, "board=stm32h743", "guard_size=96", check=False)
    assert result.returncode == 2
    line = _one_error_line(result.stderr)
    assert "command line: guard_size:" in line and "not a power of two" in line


def test_unknown_argument_is_rejected(example: Path) -> None:
    result = scons(example, "bord=stm32h743", check=False)
    assert result.returncode == 2
    assert "bord: unknown argument" in _one_error_line(result.stderr)


def test_stack_overrides_reach_the_elf(example: Path) -> None:
    toml = example / "firmware.toml"
    toml.write_text(toml.read_text() + '\n[boards.mps2-an386.stacks]\nthread_size = "2K"\n')
    scons(example, "board=mps2-an386", "isr_size=8K", "layout=flip")
    syms = symbols(example / "build" / "mps2-an386" / "firmware.elf")
    assert syms["__fwh_isr_stack_size"] == 8192
    assert syms["__fwh_thread_stack_size"] == 2048
    region = load_profile("mps2-an386").region("ssram23")
    assert syms["__fwh_isr_stack_start"] == region.origin  # flip: bottom of the region
    assert syms["__fwh_isr_guard_end"] == region.origin


def test_noop_rebuild_runs_no_tool_and_clean_removes_everything(example: Path) -> None:
    scons(example, "board=mps2-an500")
    again = scons(example, "board=mps2-an500")
    assert "gcc" not in again.stdout and "objcopy" not in again.stdout, again.stdout
    assert "Memory usage" not in again.stdout, again.stdout
    # A changed stack size regenerates the linker script and relinks, without recompiling C.
    relink = scons(example, "board=mps2-an500", "isr_size=2K")
    assert "firmware.elf" in relink.stdout and " -c " not in relink.stdout
    scons(example, "-c", "board=mps2-an500", "isr_size=2K")
    assert not (example / "build").exists()
    assert not (example / "compile_commands.json").exists()


def test_bad_run_timeout_is_one_line(example: Path) -> None:
    result = scons(example, "board=mps2-an500", "run_timeout=abc", check=False)
    assert result.returncode == 2
    assert "run_timeout: 'abc' is not a positive number" in _one_error_line(result.stderr)
