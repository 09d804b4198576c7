"""`scons board=esp32c3` writes an app image Espressif's own esptool accepts, the runtime is
RV32IMC with no atomics, the vectored mtvec's handlers are roots, and the verifier flags
an AMO on a core without the A extension.

Oracles: esptool (PyPI, Espressif's tool) `image-info` for the image (header, checksum,
SHA-256, chip id, segments), riscv64-unknown-elf-objdump for the instructions, the ELF's
own program headers for the load addresses.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import scons
from elftools.elf.elffile import ELFFile

PROJECT = """schema_version = 1
[project]
name = "esp-hello"
board = "esp32c3"
sources = ["src/*.c"]
"""
SCONSTRUCT = """import fwharden.scons
env = Environment(tools=["fwh"], toolpath=[fwharden.scons.TOOLPATH], FWH_ARGS=ARGUMENTS)
env.Firmware("firmware.toml")
"""
MAIN = """#include "fwharden.h"
static volatile unsigned ticks;
int main(void)
{
    fwh_puts("hello from " FWH_BOARD_NAME "\\n");
    return 0;
}
/* CPU interrupt line 5 (routed there by the interrupt matrix). */
void IRQ5_Handler(void)
{
    ticks++;
    fwh_put_hex(ticks);
}
"""
# amoadd.w x0, x6, (x5): opcode 0x2F, funct3 010, funct5 00000 (unprivileged spec 8.4),
# written as a word because the assembler rightly refuses it for rv32imc.
AMO = """__attribute__((noinline)) void uses_an_atomic(void) { __asm__ volatile(".word 0x0062A02F"); }
int main(void) { uses_an_atomic(); return 0; }
"""


def _project(root: Path, main: str) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "firmware.toml").write_text(PROJECT)
    (root / "SConstruct").write_text(SCONSTRUCT)
    (root / "src" / "main.c").write_text(main)
    return root


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = _project(tmp_path_factory.mktemp("esp32c3") / "hello", MAIN)
    scons(project, "board=esp32c3")
    return project / "build" / "esp32c3"


def test_esptool_accepts_the_app_image(built: Path) -> None:
    info = subprocess.run([sys.executable, "-m", "esptool", "--chip", "esp32c3", "image-info",
                           str(built / "firmware.bin")], capture_output=True, text=True,
                          timeout=120, check=False)
    assert info.returncode == 0, info.stderr
    out = info.stdout
    assert re.search(r"Checksum: 0x[0-9a-f]+ \(valid\)", out)
    assert re.search(r"Validation hash: [0-9a-f]{64} \(valid\)", out)
    assert "Chip ID: 5 (ESP32-C3)" in out
    with (built / "firmware.elf").open("rb") as stream:
        elf = ELFFile(stream)
        entry = elf.header["e_entry"]
        loads = {seg["p_paddr"] for seg in elf.iter_segments()
                 if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]}
        start = elf.get_section_by_name(".symtab").get_symbol_by_name("_start")[0]["st_value"]
    assert entry == start
    assert f"Entry point: 0x{entry:08x}" in out
    listed = {int(m, 16) for m in re.findall(r"^\s+\d+\s+0x[0-9a-f]+\s+(0x[0-9a-f]+)", out,
                                             re.MULTILINE)}
    assert listed == loads
    # Only SRAM: the bootloader loads IRAM (instruction bus) and DRAM (data bus) segments.
    for address in listed:
        assert 0x40380000 <= address < 0x40390000 or 0x3FC90000 <= address < 0x3FCC0000


def test_runtime_is_rv32imc_without_atomics_and_vectored(built: Path) -> None:
    listing = subprocess.run(["riscv64-unknown-elf-objdump", "-d", "-M", "no-aliases",
                              str(built / "firmware.elf")], capture_output=True, text=True,
                             check=True).stdout
    mnemonics = re.findall(r"^\s*[0-9a-f]+:\s+[0-9a-f]+\s+(\S+)", listing, re.MULTILINE)
    assert len(mnemonics) > 200
    assert not [m for m in mnemonics if m.startswith(("amo", "lr.", "sc."))]
    # The vectored mtvec table: 256-byte aligned, 32 jumps to the trap entry.
    table = re.search(r"^([0-9a-f]+) <fwh_vectored_entries>:\n((?:.*\n){32})", listing,
                      re.MULTILINE)
    assert table and int(table.group(1), 16) % 256 == 0
    trap = re.search(r"^([0-9a-f]+) <fwh_trap_entry>:", listing, re.MULTILINE)
    assert trap
    for line in table.group(2).splitlines():
        assert re.search(rf"\s(jal\s+zero,|j\s+){trap.group(1)}\b", line), line
    verify = (built / "verify.txt").read_text()
    assert re.search(r"^cause 5\s+IRQ5_Handler\s", verify, re.MULTILINE), verify
    flags = (built.parent.parent / "compile_commands.json").read_text()
    assert "-march=rv32imc_zicsr" in flags and "rv32imac" not in flags


def test_verifier_flags_an_amo_on_a_core_without_a(tmp_path: Path) -> None:
    project = _project(tmp_path / "amo", AMO)
    scons(project, "board=esp32c3", check=False)
    report = (project / "build" / "esp32c3" / "verify.txt").read_text()
    assert "isa-mismatch" in report
    assert re.search(r"uses_an_atomic: amoadd\.w at 0x[0-9a-f]{8} needs the A extension", report)
