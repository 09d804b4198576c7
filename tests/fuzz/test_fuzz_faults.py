"""Fault lines, raw fault records and stack maps from the outside: a HardenError of one
printable line or a parsed value, never another exception."""

from __future__ import annotations

from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

from fwharden.harden.errors import HardenError
from fwharden.harden.faults.parse import fault_from_record, find_fault_line
from fwharden.harden.faults.stackmap import HEADER, MAGIC, VERSION, parse_stackmap

PIECES = ["FWH-FAULT", " ", "arch=", "arm", "riscv", "type=", "HardFault", "cfsr=", "pc=",
          "lr=", "mcause=", "stack=", "frame=", "0x", "0x0000010", "1", "ff", "zz", ",",
          "words@", "words@0x20001000=", "00000101", "=", "\n", "\r", "\x1b[2J", "\xff",
          "9" * 50]
LINE = st.lists(st.sampled_from(PIECES), max_size=40).map("".join)


def _one_line(exc: HardenError) -> None:
    assert str(exc).isprintable() and len(str(exc)) < 1000, repr(str(exc))


@budget(200)
@given(text=st.one_of(LINE, st.text(max_size=300)))
def test_fault_line(text: str) -> None:
    try:
        fault = find_fault_line(text)
    except HardenError as exc:
        _one_line(exc)
        return
    assert all(isinstance(v, int) for v in fault.fields.values())


@budget(200)
@given(data=st.binary(max_size=200), family=st.sampled_from(["arm", "riscv"]),
       magic=st.booleans())
def test_fault_record(data: bytes, family: str, magic: bool) -> None:
    if magic:
        data = (0x46574846).to_bytes(4, "little") + data
    try:
        fault_from_record(data, family)
    except HardenError as exc:
        _one_line(exc)


@budget(200)
@given(body=st.binary(max_size=400), count=st.integers(0, 0xFFFF))
def test_stackmap(body: bytes, count: int) -> None:
    data = HEADER.pack(MAGIC, VERSION, count, 0, 0) + body
    try:
        parse_stackmap(data)
    except HardenError as exc:
        _one_line(exc)
