"""Handlers that are really installed: a misspelt handler fails the generated build with
the vector it was meant for, and `verify` finds it in any vendor table (uninstalled.py)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import fwharden, scons
from cubemx import write_cubemx_project
from elfcheck import read_word, symbols

# (handler, IRQ number) from ST's stm32f407xx.h IRQn_Type / RM0090 Table 61.
F407_LINES = {"TIM1_UP_TIM10_IRQHandler": 25, "USART2_IRQHandler": 38,
              "DMA2_Stream0_IRQHandler": 56, "OTG_FS_IRQHandler": 67}

TYPO_C = """\
void uart_rx_byte(unsigned char byte);
void HAL_UART_IRQHandler(void *huart) { (void)huart; }
void USART2_IRQhandler(void) { uart_rx_byte(2); }
"""


def test_generated_build_fails_on_a_misspelt_handler(example: Path) -> None:
    (example / "src" / "typo.c").write_text(TYPO_C.replace("uart_rx_byte(2)", ""))
    result = scons(example, "board=stm32f407", check=False)
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("fwharden: error:")]
    assert errors == ["fwharden: error: src/typo.c:3: USART2_IRQhandler is defined but never "
                      "installed (the linker discards it): did you mean USART2_IRQHandler?; fix: "
                      "give it the vector's name (fwharden board show lists them), or call it "
                      "from a handler"], result.stderr
    assert not (example / "build" / "stm32f407" / "firmware.unpatched.elf").exists()


def test_every_vendor_named_handler_lands_at_its_position(example: Path) -> None:
    body = "".join(f"volatile int hits_{i};\nvoid {name}(void) {{ hits_{i}++; }}\n"
                   for i, name in enumerate(F407_LINES))
    (example / "src" / "handlers.c").write_text(body)
    scons(example, "board=stm32f407")
    elf = example / "build" / "stm32f407" / "firmware.elf"
    table = symbols(elf)["fwh_vector_table"]
    for name, irq in F407_LINES.items():
        assert read_word(elf, table + 4 * (16 + irq)) == symbols(elf)[name] | 1, name


def test_verify_finds_a_misspelt_handler_in_a_vendor_table(tmp_path: Path) -> None:
    makefile = write_cubemx_project(tmp_path, "STM32F407xx")
    it = tmp_path / "Core" / "Src" / "stm32f4xx_it.c"
    before = it.read_text()
    it.write_text(before + TYPO_C.split("\n", 1)[1])
    typo_line = before.count("\n") + 2
    made = subprocess.run(["make", "-j2"], cwd=tmp_path, capture_output=True, text=True,
                          check=False)
    assert made.returncode == 0, made.stderr
    elf = tmp_path / "build" / "blinky.elf"
    assert "USART2_IRQhandler" not in symbols(elf)   # --gc-sections dropped it
    out = tmp_path / "verify.json"
    result = fwharden("verify", str(elf), "--board", "stm32f407", "--json", str(out))
    assert result.returncode == 1, result.stdout + result.stderr
    findings = [f for f in json.loads(out.read_text())["findings"]
                if f["rule"] == "uninstalled-handler"]
    assert [(f["callee"], f["file"], f["line"]) for f in findings] == [
        ("USART2_IRQhandler", "Core/Src/stm32f4xx_it.c", typo_line)], findings
    assert "did you mean USART2_IRQHandler?" in findings[0]["message"]
    del makefile
