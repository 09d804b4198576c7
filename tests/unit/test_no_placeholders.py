"""Generated text never carries an unfilled placeholder.

A string that was meant to be an f-string but lacks the `f` prefix (or a `str.format`
template that was never formatted) leaves `{name}` or `{a.b}` in the output: the linker
script's stack-map ASSERT once said `{layout.stackmap_size}` literally, and the golden
files froze it. This renders every generator for every catalog board, in every mode, and
fails on any leftover `{identifier}` / `{a.b}` / `{x!r}` / `{x:08x}` pattern.

No cross compiler is needed: only the Python renderers run.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from fwharden.board_profiles import list_boards, load_profile
from fwharden.linker import (
    build_layout,
    render_linker_script,
    render_stackmap_reservation,
    render_vector_table,
)
from fwharden.scaffold import init_project
from fwharden.toolchain.tinygo import TINYGO_BOARDS, target_json

# `{` + a Python name (dotted, optionally indexed) + optional conversion/format spec + `}`,
# with no blank inside: C blocks (`{ *(.text) }`, `= {` + newline) and JSON objects
# (`{"key": ...}`) never look like that.
PLACEHOLDER = re.compile(r"\{[A-Za-z_]\w*(?:\.\w+|\[\w*\])*(?:![rsa])?(?::[^{}\s]*)?\}")


def _generated(board: str) -> Iterator[tuple[str, str]]:
    profile = load_profile(board)
    layout = build_layout(profile)
    yield f"{board}.ld", render_linker_script(layout)
    yield f"{board}-tinygo.ld", render_linker_script(layout, tinygo=True)
    yield "fwh_vectors.c", render_vector_table(layout)
    yield "fwh_stackmap.c", render_stackmap_reservation(layout)
    if board in TINYGO_BOARDS:
        yield f"fwharden-{board}.json", target_json(profile, f"{board}-tinygo.ld",
                                                    ["fwh_stackmap.c"], "firmware.map")


# TinyGo's own token in a target's cflags: TinyGo replaces it with TINYGOROOT (its
# targets/nrf51.json writes "-I{root}/lib/nrfx/mdk"), so it is no leftover of ours.
TINYGO_TOKENS = {"{root}"}


def _leftovers(text: str) -> list[str]:
    return [f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group(0)}"
            for m in PLACEHOLDER.finditer(text) if m.group(0) not in TINYGO_TOKENS]


def test_the_pattern_catches_the_class() -> None:
    # The regression itself and its relatives must match; real C/ld/JSON braces must not.
    for bad in ("not the {layout.stackmap_size} bytes", "{name}", "{x!r}", "{v:08x}",
                "{items[0]}"):
        assert _leftovers(bad), bad
    for fine in ("  .ARM.extab : { *(.ARM.extab*) } > FLASH", "= {\n", '{"inherits": []}',
                 "int main(void)\n{\n}", "{ 0, 1 }"):
        assert not _leftovers(fine), fine


@pytest.mark.parametrize("board", list_boards())
def test_no_generator_leaves_a_placeholder(board: str) -> None:
    found = {name: hits for name, text in _generated(board) if (hits := _leftovers(text))}
    assert not found, f"unfilled placeholders for {board}: {found}"


@pytest.mark.parametrize("board", list_boards())
def test_scaffold_leaves_no_placeholder(board: str, tmp_path: Path) -> None:
    for path in init_project(tmp_path / "proj", board):
        hits = _leftovers(path.read_text())
        assert not hits, f"{path.name}: {hits}"
