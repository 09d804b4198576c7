"""`scons board=X` builds the example for every board with the real compilers and linkers.

Each linked ELF is read back with pyelftools: the stack symbols exist, the interrupt and
thread stacks (with their guards) do not overlap, every guard is aligned to its size, and
every allocated section lies inside the profile's memory regions.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ALL_BOARDS, ARM_BOARDS, RISCV_BOARDS, scons
from elfcheck import alloc_sections, read_word, symbols

from fwharden.board_profiles import load_profile

BUILDS = [(b, "gcc") for b in ALL_BOARDS] + [(b, "clang") for b in ARM_BOARDS + RISCV_BOARDS]


@pytest.mark.parametrize(("board", "toolchain"), BUILDS, ids=[f"{b}-{t}" for b, t in BUILDS])
def test_example_builds_and_links_as_laid_out(example: Path, board: str, toolchain: str) -> None:
    result = scons(example, f"board={board}", f"toolchain={toolchain}")
    out = example / "build" / board
    elf = out / "firmware.elf"
    for name in ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.map",
                 f"{board}.ld", "memory-usage.txt"):
        assert (out / name).stat().st_size > 0, name
    assert "Memory use of" in result.stdout and "%" in result.stdout

    profile = load_profile(board)
    syms = symbols(elf)
    blocks = {}
    for name in ("isr", "thread"):
        stack = (syms[f"__fwh_{name}_stack_start"], syms[f"__fwh_{name}_stack_end"])
        guard = (syms[f"__fwh_{name}_guard_start"], syms[f"__fwh_{name}_guard_end"])
        size = guard[1] - guard[0]
        assert size == profile.stacks.guard_size
        assert guard[0] % size == 0, f"{name} guard 0x{guard[0]:x} not aligned to {size}"
        assert guard[1] == stack[0]
        assert syms[f"__fwh_{name}_stack_size"] == stack[1] - stack[0]
        assert stack[1] - stack[0] >= getattr(profile.stacks, f"{name}_size")
        assert (syms[f"__fwh_{name}_watermark_start"], syms[f"__fwh_{name}_watermark_end"]) == stack
        blocks[name] = (guard[0], stack[1])
    (a_lo, a_hi), (b_lo, b_hi) = blocks["isr"], blocks["thread"]
    assert a_hi <= b_lo or b_hi <= a_lo, "interrupt and thread stacks overlap"
    stack_region = profile.region(profile.stacks.region)
    if profile.stacks.layout == "flip":
        # flip: the interrupt guard lies just below the region (outside the RAM).
        assert blocks["isr"][0] + profile.stacks.guard_size == stack_region.origin
        blocks["isr"] = (stack_region.origin, blocks["isr"][1])
    for lo, hi in blocks.values():
        assert stack_region.contains(lo, hi - lo)

    sections = alloc_sections(elf)
    names = {s.name for s in sections}
    assert {".isr_vector", ".text", ".fwh_stackmap", ".fwh_stacks"} <= names
    for sec in sections:
        assert any(r.contains(sec.address, sec.size) for r in profile.memory), \
            f"{sec.name} at 0x{sec.address:x} is outside every region of {board}"
        if sec.loaded:
            assert any(r.contains(sec.load_address, sec.size) for r in profile.memory)
        # No code or data may sit inside the stack block.
        if sec.name != ".fwh_stacks":
            assert not (sec.address < a_hi and a_lo < sec.address + sec.size) or sec.size == 0
    stackmap = next(s for s in sections if s.name == ".fwh_stackmap")
    assert stackmap.size == 256 and stackmap.loaded

    vectors = syms["__fwh_vectors_start"]
    if board in ARM_BOARDS:
        assert vectors == profile.placement.boot_address
        assert read_word(elf, vectors) == syms["__fwh_isr_stack_end"], "initial SP = ISR top"
        reset = read_word(elf, vectors + 4)
        assert reset & 1, "reset vector must have the Thumb bit"
        assert reset == syms["Reset_Handler"]  # Thumb symbols carry bit 0 too
    else:
        assert syms["_start"] == profile.placement.boot_address
        assert vectors % profile.vector_align == 0

    stack_usage = list((out / "obj").rglob("*.su"))
    assert any(p.name == "main.su" for p in stack_usage), "-fstack-usage output missing"
    database = json.loads((example / "compile_commands.json").read_text())
    files = {Path(entry["file"]).name for entry in database}
    assert {"main.c", "irq_nvic.c", "fwh_vectors.c"} <= files
