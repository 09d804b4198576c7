"""Interrupt priorities read from the code (analysis/priorities.py), on hand-assembled
Thumb code, and what they do to the interrupt stack's nesting (stacks.py)."""

from __future__ import annotations

import dataclasses

import pytest
from synth import image

from fwharden.board_profiles import load_profile
from fwharden.harden.analysis.bounds import EXACT, Bound
from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.analysis.policy import HardenPolicy
from fwharden.harden.analysis.priorities import (
    THREAD,
    Priority,
    _encode,
    can_preempt,
    find_priorities,
)
from fwharden.harden.analysis.roots import find_roots
from fwharden.harden.analysis.stacks import InterruptReport, PathStep, isr_stack

# arm-none-eabi-as -mcpu=cortex-m4 -mthumb, ld -Ttext 0x100:
#  100 reset: movs r0,#3; bl HAL_NVIC_SetPriorityGrouping      PRIGROUP 3 (NVIC_PRIORITYGROUP_4)
#  106        movs r2,#0; movs r1,#5; movs r0,#6; bl HAL_NVIC_SetPriority    IRQ 6: 5, sub 0
#  110        movs r2,#1; movs r1,#5; movs r0,#7; bl HAL_NVIC_SetPriority    IRQ 7: 5, sub 1
#  11a        ldr r3,=0xE000E400; movs r2,#0x20; strb r2,[r3,#8]            IPR8 = 0x20
#  120        ldr r3,=0xE000ED20; ldr r2,[r3]; orr.w r2,r2,#0xF0000000; str r2,[r3]
#                                                       SHPR3 |= 0xF0 << 24: SysTick byte 0xF0
#  12a        bl get; ldr r3,=0xE000E400; strb r0,[r3,#9]                   IPR9 = get()
#  132        b .    (pool 0xE000E400, 0xE000ED20)
#  13c get, 13e HAL_NVIC_SetPriorityGrouping, 140 HAL_NVIC_SetPriority, 142.. irq6..irq10,
#  14c systick: each bx lr
CODE = ("032000f01cf800220521062000f018f801220521072000f013f8064b20221a72054b1a6842f07042"
        "1a6000f007f8014b5872fee700e400e020ed00e070477047704770477047704770477047704700bf")
SYMBOLS = {"reset": (0x101, 60, "STT_FUNC", "STB_GLOBAL"),
           "get": (0x13d, 2, "STT_FUNC", "STB_GLOBAL"),
           "HAL_NVIC_SetPriorityGrouping": (0x13f, 2, "STT_FUNC", "STB_GLOBAL"),
           "HAL_NVIC_SetPriority": (0x141, 2, "STT_FUNC", "STB_GLOBAL"),
           **{f"irq{n}": (0x143 + 2 * (n - 6), 2, "STT_FUNC", "STB_GLOBAL") for n in range(6, 11)},
           "systick": (0x14d, 2, "STT_FUNC", "STB_GLOBAL")}
VECTORS = [0x20001000, "reset", *[0] * 13, "systick", *[0] * 6,
           "irq6", "irq7", "irq8", "irq9", "irq10"]


@pytest.fixture(scope="module")
def found() -> dict[str, Priority]:
    img = image("arm", CODE, 0x100, SYMBOLS, vectors=VECTORS, entry="reset")
    profile = load_profile("stm32f407")
    table = find_roots(img, profile, ())
    graph = CallGraph(img)
    graph.expand([r.function for r in table.roots] + [table.thread.function])
    return find_priorities(img, graph, table.roots, HardenPolicy(), profile,
                           table.thread.function)


def test_levels_from_calls_and_stores(found: dict[str, Priority]) -> None:
    levels = {name: p.level for name, p in found.items()}
    # STM32F407: 4 priority bits; PRIGROUP 3 puts all four in the group priority.
    assert levels == {"irq6": 5, "irq7": 5, "irq8": 2, "irq9": None, "irq10": 0,
                      "systick": 15}
    assert found["irq6"].site == 0x10c and "HAL_NVIC_SetPriority(6, 5, 0)" in found["irq6"].origin
    assert found["irq8"].site == 0x11e and "0xe000e408 = 0x20" in found["irq8"].origin
    assert found["systick"].site == 0x128
    assert found["irq9"].site == 0x130 and "computed" in found["irq9"].note
    assert found["irq10"].origin == "reset value" and "never sets" in found["irq10"].note


def test_can_preempt(found: dict[str, Priority]) -> None:
    assert can_preempt(found["irq8"], found["irq6"])            # 2 before 5
    assert not can_preempt(found["irq6"], found["irq8"])
    assert not can_preempt(found["irq6"], found["irq7"])        # equal: never, sub aside
    assert not can_preempt(found["irq7"], found["irq6"])
    assert can_preempt(found["irq9"], found["irq10"])           # unknown: assumed to
    assert can_preempt(found["irq10"], found["irq9"])           # nest either way
    assert not can_preempt(found["irq6"], found["irq10"])       # nothing preempts 0 ...
    assert can_preempt(Priority(-1, "fixed"), found["irq10"])   # ... but HardFault
    assert can_preempt(found["irq6"], THREAD) and not can_preempt(THREAD, found["irq6"])
    eclic_high, eclic_low = Priority(3, "x", scheme="eclic"), Priority(1, "x", scheme="eclic")
    assert can_preempt(eclic_high, eclic_low) and not can_preempt(eclic_low, eclic_high)


def test_firmware_toml_overrides_the_code() -> None:
    img = image("arm", CODE, 0x100, SYMBOLS, vectors=VECTORS, entry="reset")
    profile = load_profile("stm32f407")
    table = find_roots(img, profile, ())
    graph = CallGraph(img)
    graph.expand([r.function for r in table.roots] + [table.thread.function])
    got = find_priorities(img, graph, table.roots, HardenPolicy(priorities=(("irq9", 5),)),
                          profile)
    assert got["irq9"].level == 5 and got["irq9"].origin.startswith("firmware.toml")


@pytest.mark.parametrize(("group", "pre", "sub", "bits", "value"), [
    # CMSIS NVIC_EncodePriority; STM32 PM0214 4.4.5 (PRIGROUP) with 4 implemented bits.
    (3, 5, 0, 4, 5),       # NVIC_PRIORITYGROUP_4: 4 bits preempt, 0 sub
    (5, 2, 1, 4, 9),       # NVIC_PRIORITYGROUP_2: 2 bits preempt, 2 sub: 0b10_01
    (7, 3, 2, 4, 2),       # NVIC_PRIORITYGROUP_0: 0 bits preempt
    (0, 1, 0, 2, 1),       # ARMv6-M style 2 bits, PRIGROUP 0
])
def test_encode_priority(group, pre, sub, bits, value) -> None:
    assert _encode(group, pre, sub, bits) == value


def _irq(name: str, depth: int, level: int | None) -> InterruptReport:
    return InterruptReport(vectors=(16,), labels=("IRQ 0",), name=name, aliases=(),
                           address=0x1000, kind="handler", stack=Bound(depth, EXACT),
                           deepest=(PathStep(name, depth),),
                           priority=Priority(level, "test", None))


def test_only_handlers_that_preempt_each_other_stack_up() -> None:
    img = image("arm", CODE, 0x100, SYMBOLS)
    img = dataclasses.replace(img, symbols={**img.symbols, "__fwh_isr_stack_size": 4096})
    frame = 36
    same = isr_stack(img, None, HardenPolicy(), (_irq("a", 40, 5), _irq("b", 24, 5)))
    assert same.worst_case == Bound(40 + frame, EXACT) and len(same.levels) == 1
    assert same.levels[0].label.startswith("priority 5: a (test); 1 more handler")
    apart = isr_stack(img, None, HardenPolicy(), (_irq("a", 40, 5), _irq("b", 24, 4)))
    assert apart.worst_case == Bound(40 + 24 + 2 * frame, EXACT)
    unknown = isr_stack(img, None, HardenPolicy(), (_irq("a", 40, 5), _irq("b", 24, 5),
                                                    _irq("c", 8, None)))
    assert unknown.worst_case == Bound(40 + 8 + 2 * frame, EXACT)


# arm-none-eabi-as: reset @ 0x100: bl get; ldr r3,=0xE000E400; movs r1,#0x40;
#   str r1,[r0,r3]  (LLVM's form of NVIC->IPR[n]: the base in the index register);
#   b .   get @ 0x110: bx lr   irq0 @ 0x112: bx lr
INDEXED = "00f006f8014b4021c150fee700e400e070477047"
INDEXED_SYMBOLS = {"reset": (0x101, 16, "STT_FUNC", "STB_GLOBAL"),
                   "get": (0x111, 2, "STT_FUNC", "STB_GLOBAL"),
                   "irq0": (0x113, 2, "STT_FUNC", "STB_GLOBAL")}


def test_a_store_at_a_computed_index_makes_every_priority_unknown() -> None:
    img = image("arm", INDEXED, 0x100, INDEXED_SYMBOLS,
                vectors=[0x20001000, "reset", *[0] * 14, "irq0"], entry="reset")
    profile = load_profile("stm32f407")
    table = find_roots(img, profile, ())
    graph = CallGraph(img)
    graph.expand([r.function for r in table.roots] + [table.thread.function])
    got = find_priorities(img, graph, table.roots, HardenPolicy(), profile,
                          table.thread.function)
    assert got["irq0"].level is None
    assert "0x00000108" in got["irq0"].note and "0xe000e400 + index" in got["irq0"].note


def _rv(name: str, depth: int, kind: str, level: int | None) -> InterruptReport:
    return InterruptReport(vectors=(3,), labels=("cause 3",), name=name, aliases=(),
                           address=0x100, kind=kind, stack=Bound(depth, EXACT),
                           deepest=(PathStep(name, depth),),
                           priority=Priority(level, "test", None, "eclic"))


# riscv64-unknown-elf-as -march=rv32imac_zicsr: entry @ 0x100: csrrw ra, 0x7ed, ra
# (jalmnxti: enables MIE, runs the next pending handler); c.jr ra
JALMNXTI = "f390d07e8280"


def test_eclic_levels_nest_when_interrupt_code_re_enables() -> None:
    syms = {"entry": (0x100, 6, "STT_FUNC", "STB_GLOBAL")}
    img = image("riscv", JALMNXTI, 0x100, syms)
    entry = _rv("entry", 64, "trap-entry", None)
    two = (entry, _rv("a", 40, "handler", 1), _rv("b", 24, "handler", 2))
    check = isr_stack(img, None, HardenPolicy(), two)
    assert check.worst_case == Bound(40 + 64 + 24 + 64, EXACT)
    assert "jalmnxti" in check.levels[0].label
    # One ECLIC level: nothing preempts, the one deepest root as before.
    same = isr_stack(img, None, HardenPolicy(), (entry, _rv("a", 40, "handler", 1),
                                                 _rv("b", 24, "handler", 1)))
    assert same.worst_case == Bound(64, EXACT)
    # Without the re-enable (fwharden's own trap entry): one level.
    plain = image("riscv", "82808280", 0x100, {"entry": (0x100, 4, "STT_FUNC", "STB_GLOBAL")})
    assert isr_stack(plain, None, HardenPolicy(), two).worst_case == Bound(64, EXACT)
