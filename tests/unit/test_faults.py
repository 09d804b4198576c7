"""The fault-line and fault-record parsers, and the stack map's bytes, without a target.

The line format is the runtime's (runtime/common/fault_line.c): `FWH-FAULT v=1 arch=...
type=... key=0x........ ... stack@0x........=w0,w1,...`; the record is the
`fwh_fault_record` struct (runtime/cortex_m/guard.c): a magic word then 32-bit fields.
"""

from __future__ import annotations

import pytest

from fwharden.harden.errors import HardenError
from fwharden.harden.faults.parse import (
    ARM_RECORD,
    RECORD_MAGIC,
    RISCV_RECORD,
    fault_from_record,
    find_fault_line,
    parse_fault_line,
)
from fwharden.harden.faults.scs import SCB_CFSR_MSTKERR_Msk, SCB_CFSR_STKERR_Msk
from fwharden.harden.faults.stackmap import (
    DESCRIPTOR,
    HEADER,
    StackEntry,
    WorstCase,
    build_stackmap,
    parse_stackmap,
)

ARM_LINE = ("FWH-FAULT v=1 arch=arm type=MemManage ipsr=0x00000004 cfsr=0x00000082 "
            "mmfar=0x2000fff0 pc=0x08000125 frame=0x00000001 "
            "stack@0x20001000=0x08000131,0xdeadbeef,0x00000000")


def test_the_last_fault_line_of_a_log_wins() -> None:
    log = f"boot\n{ARM_LINE.replace('MemManage', 'BusFault')}\nnoise\n[qemu] {ARM_LINE}\n"
    fault = find_fault_line(log)
    assert (fault.arch, fault.kind) == ("arm", "MemManage")
    assert fault.fields["cfsr"] == 0x82 and fault.fields["mmfar"] == 0x2000FFF0
    assert fault.fields["v"] == 1
    assert fault.words_at == 0x2000_1000
    assert fault.words == (0x0800_0131, 0xDEADBEEF, 0)


@pytest.mark.parametrize(("text", "message"), [
    ("hello\nworld\n", "no FWH-FAULT line"),
    ("FWH-FAULT v=1 type=HardFault pc=0x1", "no arch= or type="),
    ("FWH-FAULT arch=arm type=HardFault pc=0xZZ", "pc='0xZZ' is not a number"),
    ("FWH-FAULT v=1 type=HardFault", "no arch= or type="),
])
def test_bad_lines_are_one_clear_error(text: str, message: str) -> None:
    with pytest.raises(HardenError, match=message):
        find_fault_line(text)


def test_a_line_without_stack_words() -> None:
    fault = parse_fault_line("FWH-FAULT v=1 arch=riscv type=store-fault mcause=0x7 mepc=0x20400010")
    assert fault.words_at is None and fault.words == ()
    assert fault.fields == {"v": 1, "mcause": 7, "mepc": 0x2040_0010}


def _record(names: tuple[str, ...], **values: int) -> bytes:
    words = [RECORD_MAGIC] + [values.get(n, 0) for n in names]
    return b"".join(w.to_bytes(4, "little") for w in words)


def test_arm_record_fields_in_the_runtime_s_order() -> None:
    fault = fault_from_record(_record(ARM_RECORD, ipsr=4, cfsr=0x82, pc=0x0800_0124, count=1),
                              "arm")
    assert (fault.arch, fault.kind) == ("arm", "MemManage")
    assert fault.fields["pc"] == 0x0800_0124 and fault.fields["frame"] == 1
    assert list(fault.fields)[:len(ARM_RECORD)] == list(ARM_RECORD)


@pytest.mark.parametrize("bit", [SCB_CFSR_MSTKERR_Msk, SCB_CFSR_STKERR_Msk])
def test_a_stacking_error_marks_the_frame_invalid(bit: int) -> None:
    fault = fault_from_record(_record(ARM_RECORD, ipsr=4, cfsr=bit, pc=0x0800_0124), "arm")
    assert fault.fields["frame"] == 0


def test_riscv_record_kind_from_mcause() -> None:
    fault = fault_from_record(_record(RISCV_RECORD, mcause=7, mepc=0x2040_0000), "riscv")
    assert fault.kind == "store/AMO-access-fault-(PMP)"
    assert fault.fields["mepc"] == 0x2040_0000


@pytest.mark.parametrize("data", [b"", b"\0" * 200, _record(RISCV_RECORD)[:-4]])
def test_not_a_record(data: bytes) -> None:
    with pytest.raises(HardenError, match="not a fwharden fault record"):
        fault_from_record(data, "riscv")


def _entry(ident: int, name: str, base: int) -> StackEntry:
    return StackEntry(id=ident, name=name, base=base, size=0x1000, guard_base=base - 0x80,
                      guard_size=0x80, mirror=0x2000_8000 + 40 * ident, mirror_size=40,
                      watermark_base=base, watermark_size=0x1000)


def test_stack_map_round_trip() -> None:
    entries = [_entry(0, "isr", 0x2000_0080), _entry(1, "thread", 0x2000_1100)]
    worst = {"isr": WorstCase(496, minimum_only=True, unbounded=False),
             "thread": WorstCase(0, minimum_only=False, unbounded=True)}
    data = build_stackmap(entries, 0xC5C5C5C5, worst, 128)
    assert len(data) == 128 and HEADER.size + 2 * DESCRIPTOR.size <= 128
    parsed = parse_stackmap(data)
    assert parsed.pattern == 0xC5C5C5C5 and parsed.flags == 0b01
    isr, thread = parsed.entries
    assert isr.worst_case == worst["isr"] and thread.worst_case == worst["thread"]
    assert (isr.name, isr.base, isr.guard_base, isr.mirror) == ("isr", 0x2000_0080,
                                                                0x2000_0000, 0x2000_8000)
    assert (thread.watermark_base, thread.watermark_size) == (0x2000_1100, 0x1000)


def test_stack_map_errors() -> None:
    with pytest.raises(HardenError, match="needs"):
        build_stackmap([_entry(0, "isr", 0x2000_0000)] * 3, 0, {}, 64)
    with pytest.raises(HardenError, match="holds no stack map"):
        parse_stackmap(bytes(64))
    with pytest.raises(HardenError, match="too short"):
        parse_stackmap(b"FWHS")
    truncated = build_stackmap([_entry(0, "isr", 0x2000_0000)], 0, {}, 128)[:HEADER.size + 8]
    with pytest.raises(HardenError, match="claims 1 stacks"):
        parse_stackmap(truncated)
