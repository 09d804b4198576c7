"""`fwharden import-makefile`: CubeMX (H7, F4), hand-written and unsupported Makefiles, and
the same firmware from scons (vendor mode) as from make."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import fwharden, scons
from cubemx import write_cubemx_project

from fwharden.board_profiles.project import load_project
from fwharden.importer.makefile import read_makefile

ALLOC = (".isr_vector", ".text", ".rodata", ".init_array", ".fini_array", ".data", ".bss",
         "._user_heap_stack")


def section_sizes(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-size", "-A", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] in ALLOC:
            sizes[parts[0]] = int(parts[1])
    return sizes


@pytest.mark.parametrize(("chip", "board"), [("STM32H743xx", "stm32h743"),
                                             ("STM32F407xx", "stm32f407")])
def test_cubemx_import_builds_the_same_firmware_as_make(tmp_path: Path, chip: str,
                                                        board: str) -> None:
    makefile = write_cubemx_project(tmp_path, chip)
    made = subprocess.run(["make", "-j2"], cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert made.returncode == 0, made.stderr
    before = makefile.read_bytes()
    result = fwharden("import-makefile", str(makefile))
    assert result.returncode == 0, result.stderr
    assert makefile.read_bytes() == before, "the Makefile is left untouched"
    assert "dropped '-MF" in result.stdout and "BUILD_DIR=build is not used" in result.stdout
    project = load_project(tmp_path / "firmware.toml")
    assert (project.board, project.linker, project.opt) == (board, "vendor", "g")
    assert project.build.sources[-1].startswith("startup_")
    assert project.build.defines == ("USE_HAL_DRIVER", chip)
    assert project.build.include_dirs == ("Core/Inc",)
    scons(tmp_path)
    ours = tmp_path / "build" / board / "firmware.elf"
    theirs = tmp_path / "build" / "blinky.elf"
    assert section_sizes(ours) == section_sizes(theirs)
    assert section_sizes(ours)[".text"] > 0
    report = json.loads((tmp_path / "build" / board / "verify.json").read_text())
    assert report["verdict"] == "pass"
    handlers = {i["name"] for i in report["interrupts"]}
    assert {"USART3_IRQHandler", "TIM2_IRQHandler", "SysTick_Handler"} <= handlers


def test_hand_written_makefile_with_appends_and_continuations(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    for name in ("main.c", "uart.c", "timer.c"):
        (tmp_path / "src" / name).write_text("int x;\n")
    (tmp_path / "board.ld").write_text("")
    (tmp_path / "common.mk").write_text("C_DEFS += -DCOMMON_MK=1\n")
    (tmp_path / "Makefile").write_text("""\
# hand-written
TARGET := sensor
SRCDIR = src
C_SOURCES = $(SRCDIR)/main.c
C_SOURCES += $(SRCDIR)/uart.c \\
             ${SRCDIR}/timer.c   # trailing comment
CPU = -mcpu=cortex-m4
MCU = $(CPU) -mthumb -mfloat-abi=soft
C_DEFS = -DSTM32F407xx
include common.mk
C_INCLUDES = -Iinclude
OPT ?= -Os
OPT ?= -O0
CFLAGS = $(MCU) $(C_DEFS) $(C_INCLUDES) $(OPT) -Wall
LDSCRIPT = board.ld
LDFLAGS = $(MCU) -T$(LDSCRIPT) -Wl,--gc-sections
OBJS = $(C_SOURCES:.c=.o)

all: $(TARGET).elf
""")
    result = fwharden("import-makefile", str(tmp_path / "Makefile"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["board"] == "stm32f407"
    project = load_project(tmp_path / "firmware.toml")
    assert project.build.sources == ("src/main.c", "src/uart.c", "src/timer.c")
    assert project.build.defines == ("STM32F407xx", "COMMON_MK=1")
    assert project.opt == "s"
    assert project.build.cflags == ("-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=soft", "-Wall")
    assert read_makefile(tmp_path / "Makefile").words("OBJS") == [
        "src/main.o", "src/uart.o", "src/timer.o"]


def test_unsupported_construct_is_a_clear_warning(tmp_path: Path) -> None:
    makefile = write_cubemx_project(tmp_path, "STM32H743xx")
    text = makefile.read_text().replace(
        "ifdef GCC_PATH", "ifeq ($(shell uname -m), aarch64)")
    makefile.write_text(text)
    result = fwharden("import-makefile", str(makefile), "-o", str(tmp_path / "out"))
    assert result.returncode == 0
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert any("cannot evaluate 'ifeq ($(shell uname -m), aarch64)'; assumed false" in w
               and "Makefile:" in w for w in warnings), warnings
    assert (tmp_path / "out" / "firmware.toml").exists()


def test_board_flag_and_unknown_mcu(tmp_path: Path) -> None:
    makefile = write_cubemx_project(tmp_path, "STM32H743xx")
    makefile.write_text(makefile.read_text().replace("-DSTM32H743xx", "-DSTM32L476xx"))
    result = fwharden("import-makefile", str(makefile))
    assert result.returncode == 2 and "C_DEFS: no MCU define names a board" in result.stderr
    result = fwharden("import-makefile", str(makefile), "--board", "stm32h743")
    assert result.returncode == 0
    again = fwharden("import-makefile", str(makefile), "--board", "stm32h743")
    assert again.returncode == 2 and "already exists" in again.stderr


def test_noop_rebuild_does_no_compile_or_link(tmp_path: Path) -> None:
    write_cubemx_project(tmp_path, "STM32H743xx")
    assert fwharden("import-makefile", str(tmp_path / "Makefile")).returncode == 0
    scons(tmp_path)
    again = scons(tmp_path)
    assert "arm-none-eabi-gcc" not in again.stdout
