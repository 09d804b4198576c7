"""Toolchain discovery (real programs) and Profile -> flags."""

from __future__ import annotations

import pytest
from conftest import path_without

from fwharden.board_profiles import load_profile
from fwharden.toolchain import ToolchainError, build_flags, find_toolchain

REQUIRED = {"-ffunction-sections", "-fdata-sections", "-fstack-usage"}


def _flags(board: str, kind: str, **kw):
    return build_flags(load_profile(board), kind, linker_script="x.ld", map_file="x.map", **kw)


def test_gcc_flags_for_stm32h743() -> None:
    f = _flags("stm32h743", "gcc")
    assert f.arch == ("-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard")
    assert set(f.cflags) >= REQUIRED
    assert "-Wl,--gc-sections" in f.ldflags and "-Wl,-Map=x.map" in f.ldflags
    assert f.ldflags[-2:] == ("-T", "x.ld")
    assert "FWH_HAS_FPU=1" in f.defines


def test_gcc_flags_for_riscv() -> None:
    f = _flags("gd32vf103", "gcc")
    assert "-march=rv32imac_zicsr" in f.arch and "-mabi=ilp32" in f.arch
    assert "FWH_IRQ_ECLIC=1" in f.defines


def test_clang_flags() -> None:
    arm = _flags("stm32f407", "clang")
    assert arm.arch[0] == "--target=thumbv7em-none-eabihf"
    assert "-mfpu=fpv4-sp-d16" in arm.arch
    assert set(arm.cflags) >= REQUIRED
    assert "--gc-sections" in arm.ldflags and "-Map=x.map" in arm.ldflags
    rv = _flags("fe310", "clang")
    assert rv.arch[0] == "--target=riscv32-unknown-elf" and "-mno-relax" in rv.arch


def test_clang_with_libc_is_refused() -> None:
    with pytest.raises(ToolchainError, match="only wired up for gcc"):
        _flags("stm32h743", "clang", libc="newlib-nano")


@pytest.mark.parametrize("board", ["stm32h743", "fe310"])
def test_real_toolchains_are_found_with_versions(board: str) -> None:
    profile = load_profile(board)
    gcc = find_toolchain(profile, "gcc")
    assert gcc.cc.name.endswith("-gcc") and "gcc" in gcc.version
    clang = find_toolchain(profile, "clang")
    assert "clang version" in clang.version
    assert clang.libgcc is not None and clang.libgcc.name == "libgcc.a"


def test_missing_compiler_names_package() -> None:
    with pytest.raises(ToolchainError) as info:
        find_toolchain(load_profile("fe310"), "gcc", path=path_without("riscv64-unknown-elf-gcc"))
    assert str(info.value) == ("riscv64-unknown-elf-gcc not found on PATH; "
                               "fix: apt-get install gcc-riscv64-unknown-elf")
