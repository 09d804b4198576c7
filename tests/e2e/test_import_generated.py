"""CubeMX to generated mode in one command: `import-makefile --linker generated` writes a
project that builds on fwharden's linker script and runtime; every handler the project
defines is at its vendor position in the ELF's vector table (positions from ST's CMSIS
headers, tests/cubemx.py IRQS, and the ARMv7-M exception numbers, not from fwharden)."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import fwharden, scons
from cubemx import IRQS, write_cubemx_project
from elfcheck import read_word, symbols

from fwharden.board_profiles.project import load_project

# ARMv7-M exception numbers (ARM DDI 0403E B1.5.2): the table index of each system handler.
SYSTEM = {"NMI_Handler": 2, "HardFault_Handler": 3, "MemManage_Handler": 4,
          "BusFault_Handler": 5, "UsageFault_Handler": 6, "SVC_Handler": 11,
          "DebugMon_Handler": 12, "PendSV_Handler": 14, "SysTick_Handler": 15}
IT = {"STM32F407xx": "stm32f4xx_it.c", "STM32H743xx": "stm32h7xx_it.c"}
CHIPS = [("STM32F407xx", "stm32f407", (0x20000000, 0x2001C000)),    # SRAM1: DMA reaches it
         ("STM32H743xx", "stm32h743", (0x24000000, 0x24080000))]    # AXI SRAM


def _import(makefile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = fwharden("import-makefile", str(makefile), "--linker", "generated", *args)
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def _source_of(elf: Path, address: int) -> str:
    out = subprocess.run(["arm-none-eabi-addr2line", "-e", str(elf), hex(address)],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()


@pytest.mark.parametrize(("chip", "board", "sram"), CHIPS)
def test_cubemx_project_builds_in_generated_mode(tmp_path: Path, chip: str, board: str,
                                                 sram: tuple[int, int]) -> None:
    makefile = write_cubemx_project(tmp_path, chip)
    result = _import(makefile)
    notes = [line for line in result.stdout.splitlines() if line.startswith("note:")]
    assert any(f"startup_{chip.lower()}.s leaves the build" in n for n in notes), notes
    assert any("the project uses DMA" in n and "cannot be reached by DMA" in n for n in notes)
    assert any(f"HardFault_Handler (Core/Src/{IT[chip]}:" in n
               and "replace fwharden's fault reporter" in n for n in notes), notes
    project = load_project(tmp_path / "firmware.toml")
    assert project.linker == "generated"
    assert not any(s.startswith("startup_") for s in project.build.sources)
    scons(tmp_path)
    out = tmp_path / "build" / board
    report = json.loads((out / "verify.json").read_text())
    assert report["verdict"] == "pass", [f["message"] for f in report["findings"]]
    elf = out / "firmware.elf"
    syms = symbols(elf)
    assert "g_pfnVectors" not in syms and "fwh_vector_table" in syms
    table = syms["fwh_vector_table"]
    defined = {**SYSTEM, **{name: 16 + irq for name, irq in IRQS[chip]}}
    for name, index in defined.items():
        assert read_word(elf, table + 4 * index) == syms[name] | 1, name
    # The project's own fault handlers won over the runtime's weak ones.
    assert "_it.c" in _source_of(elf, syms["HardFault_Handler"])
    # Stack sizes and heap from the vendor linker script; _sbrk's bound is fwharden's heap end.
    assert syms["__fwh_thread_stack_end"] - syms["__fwh_thread_stack_start"] == 0x400
    assert syms["__fwh_heap_end"] - syms["__fwh_heap_start"] == 0x200
    assert syms["_estack"] - syms["_Min_Stack_Size"] == syms["__fwh_heap_end"]
    assert sram[0] <= syms["__fwh_isr_stack_start"] < syms["__fwh_isr_stack_end"] <= sram[1]
    # The project's SystemInit (not the runtime's empty weak one) runs from the reset path.
    disassembly = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True,
                                 text=True, check=True).stdout
    reset = disassembly.split("<Reset_Handler>:")[1].split("\n\n")[0]
    assert "<SystemInit>" in reset
    assert "system_stm32" in _source_of(elf, syms["SystemInit"])


def test_without_dma_the_stacks_stay_in_ccm_and_the_import_says_why(tmp_path: Path) -> None:
    makefile = write_cubemx_project(tmp_path, "STM32F407xx")
    it = tmp_path / "Core" / "Src" / "stm32f4xx_it.c"
    it.write_text("\n".join(line for line in it.read_text().splitlines()
                            if "DMA" not in line and "dma_done" not in line) + "\n")
    result = _import(makefile)
    assert "note: stacks in ccm (the board's stack RAM: fast, CPU only, no DMA): no DMA use " \
           "was found" in result.stdout
    assert 'region = "ccm"' in (tmp_path / "firmware.toml").read_text()
    scons(tmp_path)
    syms = symbols(tmp_path / "build" / "stm32f407" / "firmware.elf")
    assert 0x10000000 <= syms["__fwh_isr_stack_start"] < 0x10010000


def test_misspelt_handler_fails_the_imported_build(tmp_path: Path) -> None:
    makefile = write_cubemx_project(tmp_path, "STM32H743xx")
    it = tmp_path / "Core" / "Src" / "stm32h7xx_it.c"
    text = it.read_text()
    it.write_text(text + "void USART2_IRQhandler(void) { uart_rx_byte(0); }\n")
    _import(makefile)
    result = scons(tmp_path, check=False)
    assert result.returncode != 0
    line = text.count("\n") + 1
    assert (f"fwharden: error: Core/Src/stm32h7xx_it.c:{line}: USART2_IRQhandler is defined but "
            "never installed") in result.stderr
    assert "did you mean USART2_IRQHandler?" in result.stderr


def test_command_line_overrides_and_mcu_define_in_any_flag_variable(tmp_path: Path) -> None:
    makefile = write_cubemx_project(tmp_path, "STM32H743xx")
    text = makefile.read_text()
    # The MCU define moves from C_DEFS into CFLAGS, as hand-written Makefiles have it.
    text = text.replace("-DUSE_HAL_DRIVER \\\n-DSTM32H743xx", "-DUSE_HAL_DRIVER")
    text = text.replace("CFLAGS += $(MCU)", "CFLAGS += -DSTM32H743xx $(MCU)")
    makefile.write_text(text)
    result = fwharden("import-makefile", str(makefile), 'OPT=-Os -fcommon', "DEBUG=0",
                      "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["board"] == "stm32h743"
    project = load_project(tmp_path / "firmware.toml")
    assert project.opt == "s"
    assert "-fcommon" in project.build.cflags and "-g" not in project.build.cflags
    bad = fwharden("import-makefile", str(makefile), "OPT", "-o", str(tmp_path / "o"))
    assert bad.returncode == 2 and "OPT" in bad.stderr and "VAR=value" in bad.stderr


def test_every_warning_carries_file_and_line(tmp_path: Path) -> None:
    makefile = write_cubemx_project(tmp_path, "STM32F407xx")
    makefile.write_text(makefile.read_text().replace("Core/Src/main.c", "Core/Src/missing.c")
                        .replace("OPT = -Og\n", ""))
    result = fwharden("import-makefile", str(makefile), "--linker", "generated")
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning:")]
    assert any("Core/Src/missing.c does not exist" in w for w in warnings)
    assert any("OPT is not set" in w for w in warnings)
    for warning in warnings:
        assert re.match(r"warning: Makefile:\d+: ", warning), warning
