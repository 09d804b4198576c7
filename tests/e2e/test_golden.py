"""Generated linker scripts against reviewed references in tests/golden/.

After a deliberate change: `pytest tests/test_golden.py --regen-golden`, then review the diff.
"""

from __future__ import annotations

import pytest
from conftest import GOLDEN

from fwharden.board_profiles import load_profile
from fwharden.linker import HEADER_LINE, build_layout, render_linker_script

BOARDS = ("stm32h743", "gd32vf103", "mps2-an500")


@pytest.mark.parametrize("board", BOARDS)
def test_linker_script_matches_golden(board: str, regen_golden: bool) -> None:
    text = render_linker_script(build_layout(load_profile(board)))
    golden = GOLDEN / f"{board}.ld"
    if regen_golden:
        golden.write_text(text)
    assert golden.exists(), f"missing {golden}; run pytest with --regen-golden"
    assert text == golden.read_text(), f"{board}.ld differs from {golden}"
    assert text.startswith(f"/* {HEADER_LINE}")


def test_script_is_deterministic() -> None:
    layout = build_layout(load_profile("stm32h743"))
    assert render_linker_script(layout) == render_linker_script(layout)
