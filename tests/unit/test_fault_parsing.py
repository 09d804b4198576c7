"""Fault lines, records and stack maps from the outside world (issue 20, item 4): a cut or
damaged input is one HardenError line, never ValueError or UnicodeDecodeError."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from synth import image

from fwharden.harden.errors import HardenError
from fwharden.harden.faults import decode, parse
from fwharden.harden.faults.stackmap import DESCRIPTOR, HEADER, MAGIC, SECTION, VERSION, parse_stackmap

LINE = ("FWH-FAULT arch=arm type=MemManage cfsr=0x00000082 hfsr=0x00000000 mmfar=0x20000ff0 "
        "frame=1 pc=0x00000101 lr=0x00000105 xpsr=0x01000000 stack=0 words@0x20001000=")


def test_line_cut_mid_word() -> None:
    with pytest.raises(HardenError, match="cut off or not hex"):
        parse.find_fault_line(LINE + "0x00000101,0x")


def test_whole_line_parses() -> None:
    fault = parse.find_fault_line("boot\n" + LINE + "00000101,00000105\n")
    assert fault.words == (0x101, 0x105) and fault.words_at == 0x20001000


@pytest.mark.parametrize("value", ["0x", "12abc", "\x1b[2J", "9" * 5000])
def test_bad_field_is_one_line(value: str) -> None:
    with pytest.raises(HardenError) as info:
        parse.find_fault_line(f"FWH-FAULT arch=arm type=HardFault cfsr={value}")
    message = str(info.value)
    assert "cfsr=" in message and "\n" not in message and "\x1b" not in message
    assert len(message) < 300


def test_short_record() -> None:
    with pytest.raises(HardenError, match="not a fwharden fault record"):
        parse.fault_from_record(b"FHWF", "arm")


def _stackmap(name: bytes, count: int = 1) -> bytes:
    body = DESCRIPTOR.pack(0, name, *range(9))
    return HEADER.pack(MAGIC, VERSION, count, 0xC5C5C5C5, 0) + body


def test_stackmap_name_not_utf8() -> None:
    data = _stackmap(b"is\xffr\n")
    img = image("arm", "7047", 0x100, {"f": (0x101, 2, "STT_FUNC", "STB_GLOBAL")},
                data={SECTION: (0x20000000, data, True)})
    with pytest.raises(HardenError) as info:
        decode._stack_name(img, 0)
    assert "not ASCII" in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize("data", [b"", b"\x00" * 8, _stackmap(b"isr", count=500)])
def test_damaged_stackmap(data: bytes) -> None:
    with pytest.raises(HardenError):
        parse_stackmap(data)


def test_record_from_the_cli_is_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                        ) -> None:
    from fwharden.cli import main
    big = tmp_path / "dump.bin"
    big.write_bytes(struct.pack("<I", 0x46574846) * ((1 << 20) // 4 + 1))
    assert main(["decode-fault", "--elf", "x.elf", "--record", str(big)]) == 2
    assert "more than the 1048576 bytes" in capsys.readouterr().err


def test_long_word_on_the_line_is_linear() -> None:
    """Found by the fuzz tier: a 32k-character word on a FWH-FAULT line took minutes (the
    field regexes retried at every position inside it)."""
    import time
    start = time.perf_counter()
    fault = decode.find_fault_line("FWH-FAULT arch=arm type=HardFault " + "9" * 200_000)
    assert fault.kind == "HardFault" and time.perf_counter() - start < 2
