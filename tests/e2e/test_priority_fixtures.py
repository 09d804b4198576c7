"""Priorities read from real compiler output (analysis/priorities.py) on the fixtures in
tests/firmware/priorities, at -O0, -O2 and -Os.

The oracle is the source: each `EXPECT` comment gives the preemption priority the code
sets (worked out by hand from the NVIC encoding: STM32 PM0214 4.4.5, ARMv7-M ARM B1.5.4).
objdump confirms each build exercises the path it is for (a call to the setter, or the
store it inlines to). Each ELF is compiled directly (no SCons): well under a second.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

from fwharden.board_profiles import load_profile
from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.analysis.policy import HardenPolicy
from fwharden.harden.analysis.priorities import can_preempt, find_priorities
from fwharden.harden.analysis.roots import find_roots
from fwharden.harden.elf.image import load_image

SOURCE = REPO / "tests" / "firmware" / "priorities"
OPTS = ("0", "2", "s")
LINK = """MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 64K
         RAM (rwx) : ORIGIN = 0x20000000, LENGTH = 16K }
SECTIONS {
  .isr_vector : { KEEP(*(.isr_vector)) } > FLASH
  .text : { *(.text*) *(.rodata*) } > FLASH
  .data : { *(.data*) } > RAM AT > FLASH
  .bss : { *(.bss*) *(COMMON) } > RAM
}
"""


def _build(tmp: Path, name: str, sources: list[str], cpu: str, opt: str,
           defines: tuple[str, ...] = (), compiler: str = "gcc") -> Path:
    script = tmp / "link.ld"
    script.write_text(LINK)
    elf = tmp / f"{name}-{compiler}-O{opt}.elf"
    driver = ["arm-none-eabi-gcc"] if compiler == "gcc" else [
        "clang-15", "--target=arm-none-eabi", "-fuse-ld=lld"]
    subprocess.run([*driver, f"-mcpu={cpu}", "-mthumb", f"-O{opt}", *defines,
                    "-nostdlib", "-Wl,-T," + str(script), "-Wl,--entry=Reset_Handler",
                    "-o", str(elf), *(str(SOURCE / s) for s in sources)], check=True)
    return elf


def _priorities(elf: Path, board: str):
    image = load_image(elf)
    profile = load_profile(board)
    table = find_roots(image, profile, ())
    graph = CallGraph(image)
    graph.expand([r.function for r in table.roots] + [table.thread.function])
    return find_priorities(image, graph, table.roots, HardenPolicy(), profile,
                           table.thread.function)


def _expected(source: str, grouping: str | None = None) -> dict[str, int]:
    """Handler -> priority from the source's EXPECT comments."""
    text = (SOURCE / source).read_text()
    if grouping is None:
        return {m[0]: int(m[1]) for m in re.findall(r"EXPECT (\w+) (\d+)", text)}
    out = {}
    for line in re.findall(r"EXPECT (.*?) \*/", text):
        name, first = re.match(r"3: (\w+) (\d+)", line).groups()
        second = re.search(r"5: (\d+)", line).group(1)
        out[name] = int(first if grouping == "3" else second)
    return out


def _disassembly(elf: Path) -> str:
    return subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], capture_output=True,
                          text=True, check=True).stdout


def _function(text: str, name: str) -> str:
    match = re.search(rf"^[0-9a-f]+ <{name}>:\n(.*?)(?:\n\n|\Z)", text, re.S | re.M)
    return match.group(1) if match else ""


@pytest.mark.parametrize(("compiler", "opt", "grouping"), [
    ("gcc", "0", "3"), ("gcc", "2", "3"), ("gcc", "s", "3"), ("gcc", "2", "5"),
    ("clang", "z", "3"),   # clang -Oz calls through a register: blx r4
])
def test_hal_calls(tmp_path: Path, compiler: str, opt: str, grouping: str) -> None:
    elf = _build(tmp_path, "hal", ["hal_style.c", "hal_cortex.c", "vectors_arm.c"],
                 "cortex-m4", opt, (f"-DGROUPING={grouping}",), compiler)
    main = _function(_disassembly(elf), "main") + _function(_disassembly(elf), "MX_GPIO_Init")
    # The path under test: calls, not stores (clang -Oz: blx through a register).
    assert "<HAL_NVIC_SetPriority>" in main or ("blx\tr" in main and compiler == "clang")
    found = _priorities(elf, "stm32f407")
    expected = _expected("hal_style.c", grouping)
    assert {n: found[n].level for n in expected} == expected
    # Never configured: the reset value 0, the most urgent configurable priority.
    assert found["EXTI3_IRQHandler"].level == 0
    assert found["EXTI3_IRQHandler"].origin == "reset value"
    assert "HAL_NVIC_SetPriority(6, 5, 0)" in found["EXTI0_IRQHandler"].origin
    # Equal preemption priority never preempts, whatever the subpriority (B1.5.4).
    assert not can_preempt(found["EXTI0_IRQHandler"], found["EXTI1_IRQHandler"])
    assert can_preempt(found["EXTI0_IRQHandler"], found["SysTick_Handler"])


@pytest.mark.parametrize(("compiler", "opt"), [("gcc", o) for o in OPTS] + [("clang", "2")])
def test_cmsis_inline_stores_and_grouping(tmp_path: Path, compiler: str, opt: str) -> None:
    elf = _build(tmp_path, "cmsis", ["cmsis_inline.c", "vectors_arm.c"], "cortex-m4", opt,
                 compiler=compiler)
    text = _disassembly(elf)
    if opt != "0":
        # Inlined: byte stores into NVIC_IPR/SHPR, AIRCR written in main itself.
        assert "<NVIC_SetPriority>" not in text and "strb" in _function(text, "main")
    found = _priorities(elf, "stm32f407")
    expected = _expected("cmsis_inline.c")
    assert {n: found[n].level for n in expected} == expected


@pytest.mark.parametrize(("compiler", "opt"), [("gcc", o) for o in OPTS] + [("clang", "2")])
def test_armv6m_word_read_modify_write(tmp_path: Path, compiler: str, opt: str) -> None:
    # clang merges the new byte in with adds, not orr (the bits cannot overlap).
    elf = _build(tmp_path, "v6m", ["armv6m.c", "vectors_arm.c"], "cortex-m0", opt,
                 compiler=compiler)
    text = _disassembly(elf)
    assert "strb" not in _function(text, "main") + _function(text, "set_priority")
    found = _priorities(elf, "microbit")      # nRF51: ARMv6-M, 2 priority bits
    expected = _expected("armv6m.c")
    if opt == "0":
        # -O0 keeps set_priority out of line: one store at an index computed from its
        # argument. The verifier does not guess: every priority is unknown, and says why.
        assert "<set_priority>" in text
        assert all(found[n].level is None and "computes" in found[n].note for n in expected)
        return
    assert {n: found[n].level for n in expected} == expected


@pytest.mark.parametrize("opt", ["0", "2"])
def test_priorities_set_in_a_loop(tmp_path: Path, opt: str) -> None:
    elf = _build(tmp_path, "loop", ["loop.c", "vectors_arm.c"], "cortex-m4", opt)
    found = _priorities(elf, "stm32f407")
    expected = _expected("loop.c")
    stores = _function(_disassembly(elf), "main")
    if opt == "0":
        # Rolled: one store through a moving pointer. Unknown for all, with the reason.
        assert re.search(r"\tb(cc|lo|ls|ne|lt|le)\S*\s", stores)   # the loop is there
        assert all(found[n].level is None and "computes" in found[n].note for n in expected)
        return
    assert {n: found[n].level for n in expected} == expected
    assert not can_preempt(found["EXTI1_IRQHandler"], found["EXTI0_IRQHandler"])
    assert can_preempt(found["EXTI0_IRQHandler"], found["EXTI1_IRQHandler"])


@pytest.mark.parametrize("opt", OPTS)
def test_eclic_levels(tmp_path: Path, opt: str) -> None:
    elf = tmp_path / f"eclic-O{opt}.elf"
    subprocess.run(["riscv64-unknown-elf-gcc", "-march=rv32imac_zicsr", "-mabi=ilp32",
                    "-ffreestanding", f"-O{opt}", "-nostdlib", "-Wl,-Ttext=0x08000000",
                    "-Wl,-Tdata=0x20000000", "-Wl,--entry=_start", "-o", str(elf),
                    str(SOURCE / "eclic.c"), str(SOURCE / "eclic_lib.c")], check=True)
    text = subprocess.run(["riscv64-unknown-elf-objdump", "-d", str(elf)], capture_output=True,
                          text=True, check=True).stdout
    assert "<eclic_irq_enable>" in _function(text, "main")    # calls, not inlined
    found = _priorities(elf, "gd32vf103")
    expected = _expected("eclic.c")
    assert {n: found[n].level for n in expected} == expected
    assert all(found[n].scheme == "eclic" for n in expected)
    # ECLIC: the higher level preempts; equal levels do not.
    assert can_preempt(found["eclic_mtip_handler"], found["eclic_msip_handler"])
    assert not can_preempt(found["eclic_msip_handler"], found["eclic_mtip_handler"])
    assert not can_preempt(found["USART0_IRQHandler"], found["eclic_msip_handler"])
