"""Profile -> Layout: guards aligned to their size, stacks apart, everything in its region."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import ALL_BOARDS

from fwharden.board_profiles import load_profile
from fwharden.linker import build_layout


def _with_layout(board: str, layout: str):
    profile = load_profile(board)
    return dataclasses.replace(profile, stacks=dataclasses.replace(profile.stacks, layout=layout))


@pytest.mark.parametrize("layout_kind", ["top", "flip"])
@pytest.mark.parametrize("board", ALL_BOARDS)
def test_stack_block_invariants(board: str, layout_kind: str) -> None:
    profile = _with_layout(board, layout_kind)
    layout = build_layout(profile)
    region = profile.region(profile.stacks.region)
    spans = []
    for block in layout.stacks:
        guard, stack = block.guard, block.stack
        assert guard.size == profile.stacks.guard_size
        assert guard.start % guard.size == 0, f"{block.name} guard not aligned to its size"
        assert guard.end == stack.start, "guard directly below its stack"
        assert stack.size >= block.requested
        assert stack.end % 8 == 0
        assert block.watermark == stack
        assert region.contains(stack.start, stack.size)
        spans += [guard, stack]
    for i, a in enumerate(spans):
        for b in spans[i + 1:]:
            assert not a.overlaps(b), f"{a} overlaps {b}"
    if layout_kind == "flip":
        assert layout.isr.stack.start == region.origin
        assert layout.isr.guard.end == region.origin  # the guard lies just below the RAM
    else:
        assert layout.isr.top == region.end  # interrupt stack at the very top
    # The region's remaining MEMORY entry never overlaps the stack block.
    rest = next(u for u in layout.regions if u.source is region)
    block = layout.stack_region
    assert rest.origin + rest.length <= block.origin or block.origin + block.length <= rest.origin


def test_stack_grows_to_the_next_guard_alignment() -> None:
    profile = load_profile("mps2-an500")
    odd = dataclasses.replace(profile, stacks=dataclasses.replace(profile.stacks, isr_size=1000 * 8))
    layout = build_layout(odd)
    assert layout.isr.requested == 8000
    assert layout.isr.stack.size == 8064  # rounded up so the guard base is 128-aligned
    assert layout.isr.guard.start % 128 == 0
