"""Interrupt-stack worst case over preemption levels, on the bundled example's ELF."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import EXAMPLE, built_copy, copy_project, scons

from fwharden.board_profiles import load_profile
from fwharden.harden import HardenPolicy, verify_elf


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_copy(EXAMPLE, tmp_path_factory.mktemp("prio") / "demo", "mps2-an500")


def _isr(elf: Path, policy: HardenPolicy):
    return verify_elf(elf, load_profile("mps2-an500"), policy)


def test_without_priorities_every_handler_may_nest(elf: Path) -> None:
    result = _isr(elf, HardenPolicy())
    by_vector = {v: i.stack.bytes for i in result.interrupts for v in i.vectors}
    frame = 104 + 4  # FP context + alignment word on a Cortex-M7F
    # IRQ 0 and IRQ 1 each at their own level, then NMI and HardFault on top of them.
    expected = by_vector[16] + by_vector[17] + by_vector[2] + by_vector[3] + frame * 4
    assert result.isr_stack.worst_case.bytes == expected
    assert result.isr_stack.size == 4096
    assert result.isr_stack.margin == 4096 - expected
    # The fault handlers move to their own stack at once: nothing of theirs is counted here.
    assert by_vector[3] == 0


def test_handlers_at_one_priority_do_not_nest(elf: Path) -> None:
    same = HardenPolicy(priorities=(("UART0RX_IRQHandler", 2), ("UART0TX_IRQHandler", 2)))
    apart = HardenPolicy(priorities=(("UART0RX_IRQHandler", 2), ("UART0TX_IRQHandler", 1)))
    one, two = _isr(elf, same).isr_stack, _isr(elf, apart).isr_stack
    assert len(one.levels) == len(two.levels) - 1
    assert two.worst_case.bytes - one.worst_case.bytes == 108 + min(
        level.handler.bytes for level in two.levels if level.label.startswith("priority"))


def test_nesting_levels_cap(elf: Path) -> None:
    result = _isr(elf, HardenPolicy(nesting_levels=1))
    labels = [level.label for level in result.isr_stack.levels]
    assert labels[-2:] == ["NMI", "HardFault"] and len(labels) == 3


def test_too_small_interrupt_stack_is_an_error(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "demo")
    result = scons(project, "board=mps2-an500", "isr_size=256", check=False)
    assert result.returncode != 0
    assert "[isr-stack-overflow] interrupt stack: worst case" in result.stdout
    assert "exceeds the 256 B reserved" in result.stdout
