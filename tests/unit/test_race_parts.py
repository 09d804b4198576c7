"""isr-data-race building blocks without a cross compiler: the mask lattice the access walk
uses where paths join, BASEPRI against a handler's priority, and [harden.shared] parsing."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwharden.board_profiles.project import ProjectError, harden_policy
from fwharden.harden.analysis.priorities import Priority
from fwharden.harden.analysis.races import _blocks, _Context
from fwharden.harden.elf.image import Function
from fwharden.harden.isa.accesses import MASKED, UNMASKED, Mask


def _handler(priority: int | None, fixed: bool = False) -> _Context:
    return _Context("H", Function(0, 2, ("H",)), Priority(priority, "test"))


def test_meet_keeps_only_what_every_path_masks() -> None:
    assert MASKED.meet(MASKED) == MASKED
    assert MASKED.meet(UNMASKED) == UNMASKED
    # BASEPRI 0x20 on one path, 0x40 on the other: only 0x40 and below is masked on both.
    assert Mask(False, 0x20).meet(Mask(False, 0x40)) == Mask(False, 0x40)
    assert Mask(False, 0x20).meet(UNMASKED) == UNMASKED
    assert Mask(True, 0x20).meet(Mask(False, 0x20)) == Mask(False, 0x20)


def test_basepri_masks_priorities_at_or_below_its_level() -> None:
    # 3 priority bits: priority p is p << 5 in BASEPRI's 8-bit form (ARM DDI 0403E B1.4.3).
    assert _blocks(Mask(False, 1 << 5), _handler(1), 3)
    assert _blocks(Mask(False, 1 << 5), _handler(4), 3)
    assert not _blocks(Mask(False, 2 << 5), _handler(1), 3)
    assert not _blocks(Mask(False, 1 << 5), _handler(None), 3)   # unknown: not masked
    assert _blocks(MASKED, _handler(None), 3)
    # Bits below the implemented ones read as zero: BASEPRI = 4 on a 3-bit part is 0, which
    # masks nothing (ARMv7-M B1.4.3); 0x24 is 0x20.
    assert not _blocks(Mask(False, 4), _handler(4), 3)
    assert _blocks(Mask(False, 4), _handler(4), 8)
    assert _blocks(Mask(False, 0x24), _handler(1), 3)
    assert not _blocks(MASKED, _handler(-2, fixed=True), 3)      # NMI ignores PRIMASK


def test_shared_key_needs_a_reason(tmp_path: Path) -> None:
    path = tmp_path / "firmware.toml"
    policy = harden_policy({"shared": {"rx_count": "set before the IRQ is enabled"}}, path)
    assert policy.shared == (("rx_count", "set before the IRQ is enabled"),)
    with pytest.raises(ProjectError, match="harden.shared.rx_count"):
        harden_policy({"shared": {"rx_count": " "}}, path)
