"""Mutated board profiles and firmware.toml files: a ConfigError of one line naming the
file, or a loaded value; never another exception."""

from __future__ import annotations

from pathlib import Path

from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

from fwharden.board_profiles import ConfigError, load_profile
from fwharden.board_profiles.project import load_project

REPO = Path(__file__).resolve().parents[2]
PROFILE = (REPO / "tests" / "data" / "profiles" / "valid_base.toml").read_bytes()
CATALOG = (REPO / "fwharden" / "board_profiles" / "mps2-an386.toml").read_bytes()
PROJECT = (REPO / "examples" / "irq-demo" / "firmware.toml").read_bytes() + b"""
[stacks]
isr_size = "4K"
[harden.priorities]
UART0RX_IRQHandler = 1
[boards.mps2-an386]
defines = ["X=1"]
"""
# Pieces that TOML and the schema care about, so mutations reach past the parser.
TOKENS = [b"[", b"]", b"{", b"}", b"=", b'"', b"'", b"\n", b",", b".", b"-1", b"0x", b"1e9",
          b"\xff", b"\x00", b"\\", b"inherits", b"stm32h7", b"[[a]]", b"true", b"\"2M\"",
          b"99999999999999999999", b"#", b"irq_count", b"names", b"base", b"uart"]


def _mutate(seed: bytes, edits: list[tuple[int, int, bytes]]) -> bytes:
    data = seed
    for offset, cut, insert in edits:
        where = offset % (len(data) + 1)
        data = data[:where] + insert + data[where + cut % 8:]
    return data


EDITS = st.lists(st.tuples(st.integers(0, 1 << 16), st.integers(0, 7),
                           st.one_of(st.sampled_from(TOKENS), st.binary(max_size=6))),
                 min_size=1, max_size=10)


def _check(exc: ConfigError, path: Path) -> None:
    message = str(exc)
    assert message.startswith(str(path)) or message.startswith("board '"), message
    assert message.isprintable(), repr(message)


@budget(80)
@given(edits=EDITS, seed=st.sampled_from([PROFILE, CATALOG]))
def test_mutated_profile(tmp_path: Path, edits, seed: bytes) -> None:
    path = tmp_path / "board.toml"
    path.write_bytes(_mutate(seed, edits))
    try:
        load_profile(str(path))
    except ConfigError as exc:
        _check(exc, path)


@budget(80)
@given(edits=EDITS)
def test_mutated_project(tmp_path: Path, edits) -> None:
    path = tmp_path / "firmware.toml"
    path.write_bytes(_mutate(PROJECT, edits))
    try:
        project = load_project(path)
        load_profile(project.board, project.board_dirs)
    except ConfigError as exc:
        _check(exc, path)
