"""The interrupt and thread stack checks: preemption levels, fixed-priority exceptions,
the hardware frame (ARM DDI 0403E B1.5.7) and the findings a check gives."""

from __future__ import annotations

import dataclasses

import pytest
from handmade import Fn, image_of

from fwharden.board_profiles import Cpu, load_profile
from fwharden.board_profiles.model import arm_exception_frame
from fwharden.harden.analysis.bounds import AT_LEAST, EXACT, UNBOUNDED, Bound
from fwharden.harden.analysis.findings import DEFAULT_SEVERITY
from fwharden.harden.analysis.policy import HardenPolicy
from fwharden.harden.analysis.stacks import (
    InterruptReport,
    PathStep,
    StackCheck,
    StackLevel,
    hardware_frame,
    isr_stack,
    stack_findings,
)


def _irq(name: str, vector: int, depth: int, kind=EXACT) -> InterruptReport:
    return InterruptReport(vectors=(vector,), labels=(f"IRQ {vector - 16}",), name=name,
                           aliases=(), address=0x1000 + vector, kind="handler",
                           stack=Bound(depth, kind), deepest=(PathStep(name, depth),))


def _image(family="arm", arm_fp=False, isr_size=1024):
    image, _ = image_of({"f": Fn()}, family)
    symbols = {**image.symbols, "__fwh_isr_stack_size": isr_size}
    return dataclasses.replace(image, symbols=symbols, arm_fp=arm_fp)


def test_frame_sizes_are_the_manual_s() -> None:
    assert arm_exception_frame(False) == 32          # 8 words
    assert arm_exception_frame(True) == 104          # + S0-S15, FPSCR, reserved
    assert arm_exception_frame(True, align_pad=True) == 108


@pytest.mark.parametrize(("fpu", "abi", "code_fp", "frame"), [
    ("none", "soft", False, 32 + 4),
    ("fpv4-sp-d16", "hard", False, 104 + 4),     # the reset code enables CP10/CP11
    ("fpv4-sp-d16", "softfp", False, 104 + 4),
    ("fpv4-sp-d16", "soft", False, 32 + 4),      # FPU never enabled, no FP code: FPCA stays 0
    ("fpv4-sp-d16", "soft", True, 104 + 4),      # a softfp library in a soft build
])
def test_fp_frame_only_when_fp_context_can_exist(fpu, abi, code_fp, frame) -> None:
    profile = load_profile("mps2-an386")
    profile = dataclasses.replace(profile, cpu=Cpu(profile.cpu.arch, profile.cpu.core, fpu, abi))
    assert hardware_frame(_image(arm_fp=code_fp), profile) == frame
    # The guard checks take the largest frame the core can push, whatever the ELF holds.
    assert profile.cpu.exception_frame == (104 if fpu != "none" else 32)


def test_without_a_board_the_elf_attributes_decide() -> None:
    assert hardware_frame(_image(arm_fp=True), None) == 108
    assert hardware_frame(_image(arm_fp=False), None) == 36
    assert hardware_frame(_image("riscv"), None) == 0


def test_every_priority_level_nests_and_fixed_exceptions_add_on_top() -> None:
    irqs = (_irq("a", 16, 40), _irq("b", 17, 24), _irq("nmi", 2, 8), _irq("hard", 3, 0))
    check = isr_stack(_image(), None, HardenPolicy(), irqs)
    frame = 36
    assert check.worst_case == Bound(40 + 24 + 8 + 0 + 4 * frame, EXACT)
    assert [level.label for level in check.levels] == [
        "a (priority not given)", "b (priority not given)", "NMI", "HardFault"]
    assert check.margin == 1024 - check.worst_case.bytes


def test_handlers_at_one_priority_do_not_nest() -> None:
    irqs = (_irq("a", 16, 40), _irq("b", 17, 24))
    same = isr_stack(_image(), None, HardenPolicy(priorities=(("a", 1), ("b", 1))), irqs)
    assert same.levels == (StackLevel("priority 1", Bound(40, EXACT), 36),)
    capped = isr_stack(_image(), None, HardenPolicy(nesting_levels=1), irqs)
    assert capped.worst_case.bytes == 40 + 36


def test_the_board_s_priority_bits_cap_the_levels() -> None:
    profile = load_profile("mps2-an386")         # 3 priority bits: 8 levels
    irqs = tuple(_irq(f"h{i}", 16 + i, 8) for i in range(12))
    check = isr_stack(_image(arm_fp=True), profile, HardenPolicy(), irqs)
    assert len(check.levels) == 1 << profile.interrupts.priority_bits


def test_riscv_counts_one_level_unless_told() -> None:
    trap = dataclasses.replace(_irq("trap", -1, 96), kind="trap-entry")
    check = isr_stack(_image("riscv"), None, HardenPolicy(), (trap,))
    assert check.worst_case == Bound(96, EXACT)
    assert isr_stack(_image("riscv"), None, HardenPolicy(nesting_levels=2),
                     (trap,)).worst_case == Bound(192, EXACT)


@pytest.mark.parametrize(("worst", "rule"), [
    (Bound(2000, EXACT), "isr-stack-overflow"),
    (Bound(100, UNBOUNDED), "isr-stack-overflow"),
    (Bound(100, AT_LEAST), "stack-unproven"),
    (Bound(1024, EXACT), None),                  # exactly full still fits
])
def test_stack_findings(worst: Bound, rule: str | None) -> None:
    check = StackCheck("interrupt stack", 1024, worst, ())
    found = stack_findings(check, "isr-stack-overflow", dict(DEFAULT_SEVERITY))
    assert [f.rule for f in found] == ([rule] if rule else [])
    assert all(f.root is None and f.callee is None for f in found)
