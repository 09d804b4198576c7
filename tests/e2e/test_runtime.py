"""On-target proof under QEMU (every board with a [qemu] table: Cortex-M0, M3, M4, M7, M33
and RV32IMAC): the runtime paints and measures the stacks, the guards stop an overflow,
faults decode back to source, mirror snapshots catch a corrupted slot, and the stack map is
patched in place."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLE, QEMU_BOARDS, REPO, built_copy, copy_project, fwharden, scons
from elftools.elf.elffile import ELFFile

from fwharden.board_profiles import load_profile
from fwharden.harden.faults.stackmap import parse_stackmap

# The interrupt the overflow firmware fires on each board (tests/firmware/overflow/src/main.c).
OVERFLOW_HANDLERS = {"mps2-an500": "UART0RX_IRQHandler", "mps2-an386": "UART0RX_IRQHandler",
                     "mps2-an505": "UART0RX_IRQHandler", "sifive-e": "MachineSoftware_Handler",
                     "microbit": "SWI0_IRQHandler", "lm3s6965evb": "GPIOA_IRQHandler",
                     "netduinoplus2": "WWDG_IRQHandler"}
FIRMWARE = REPO / "tests" / "firmware"


def run(board: str, elf: Path, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return fwharden("run", str(elf), "--board", board, "--timeout", str(timeout))


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_high_water_never_exceeds_the_static_bound(board: str, tmp_path: Path) -> None:
    elf = built_copy(EXAMPLE, tmp_path / "demo", board)
    result = run(board, elf)
    assert result.returncode == 0, result.stdout + result.stderr
    output = result.stdout + result.stderr
    nested = "3" if load_profile(board).cpu.family == "arm" else "0"
    assert f"low=3 high=3 nested={nested}" in output
    measured = dict(re.findall(r"(isr|thread)=(\d+)", output.split("high-water", 1)[1]))
    report = json.loads((elf.parent / "verify.json").read_text())
    for name, key in (("isr", "isr_stack"), ("thread", "thread_stack")):
        static = report[key]["worst_case"]
        used = int(measured[name])
        print(f"{board} {name} stack: static worst case {static} B ({report[key]['kind']}), "
              f"measured high-water {used} B, reserved {report[key]['size']} B")
        assert report[key]["kind"] == "exact"
        assert 0 < used <= static, f"{name}: measured {used} > static {static}"


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_guard_stops_interrupt_stack_overflow(board: str, tmp_path: Path) -> None:
    elf = built_copy(FIRMWARE / "overflow", tmp_path / "overflow", board)
    result = run(board, elf)
    output = result.stdout + result.stderr
    assert result.returncode == 70, output   # FWH_EXIT_FAULT
    assert "the guard did not stop" not in output
    line = next(line for line in output.splitlines() if line.startswith("FWH-FAULT"))
    log = tmp_path / "run.log"
    log.write_text(output)
    decoded = fwharden("decode-fault", "--elf", str(elf), str(log), "--json")
    assert decoded.returncode == 0, decoded.stderr
    data = json.loads(decoded.stdout)
    text = fwharden("decode-fault", "--elf", str(elf), str(log)).stdout
    print(line, text, sep="\n")
    assert data["stack"] == "isr" and "overflow of the interrupt stack" in data["summary"]
    guard = load_profile(board).protection.kind
    source = (FIRMWARE / "overflow" / "src" / "main.c").read_text().splitlines()
    if guard == "none":
        # ARMv6-M without an MPU (microbit): the overflow ran off the start of RAM into
        # unmapped space; the bus error is a HardFault whose frame could not be stacked
        # (SP is below RAM), so only SP tells which stack overflowed.
        assert data["type"] == "HardFault" and "below the stack's lowest address" in data["summary"]
        assert data["pc"] is None and data["handlers"] == []
        return
    if guard == "pmsav8":
        # MSPLIM: the frame-allocating instruction itself faults, SP is left unchanged, so
        # the frame is good and the PC is in overflow_body's prologue.
        assert data["type"] == "UsageFault" and "stack limit violation" in data["summary"]
    elif guard == "pmsav7":
        assert data["type"] == "MemManage" and "data access violation" in data["summary"]
    else:
        assert "store/AMO access fault (PMP)" in data["summary"]
    handler = OVERFLOW_HANDLERS[board]
    assert [h["function"] for h in data["handlers"]] == [handler]
    assert data["handlers"][0]["file"].endswith("main.c") and data["handlers"][0]["line"] > 0
    assert data["pc"]["function"] == "overflow_body"
    if guard != "pmsav8":
        assert "the guard stops this store" in source[data["pc"]["line"] - 1]


@pytest.mark.parametrize("board", QEMU_BOARDS)
def test_mirror_check_finds_a_corrupted_slot(board: str, tmp_path: Path) -> None:
    elf = built_copy(FIRMWARE / "mirror", tmp_path / "mirror", board)
    result = run(board, elf)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "mirror: before=0x00000000 after=0x00000002" in output
    # The runtime itself (start-up, painting, guards, fault capture) passes verify.
    report = json.loads((elf.parent / "verify.json").read_text())
    assert report["verdict"] == "pass" and report["findings"] == []


def test_stack_map_patch_changes_only_its_section(tmp_path: Path) -> None:
    elf = built_copy(EXAMPLE, tmp_path / "demo", "mps2-an500")
    linked = elf.with_name("firmware.unpatched.elf")
    before, after = linked.read_bytes(), elf.read_bytes()
    with elf.open("rb") as stream:
        reader = ELFFile(stream)
        section = reader.get_section_by_name(".fwh_stackmap")
        offset, size = section["sh_offset"], section["sh_size"]
        symbols = {s.name: s["st_value"] for s in reader.get_section_by_name(".symtab")
                   .iter_symbols()}
        content = section.data()
        segments_after = [dict(s.header) for s in reader.iter_segments()]
    with linked.open("rb") as stream:
        segments_before = [dict(s.header) for s in ELFFile(stream).iter_segments()]
    assert len(before) == len(after)
    assert before[:offset] == after[:offset] and before[offset + size:] == after[offset + size:]
    assert before[offset:offset + size] == bytes(size)      # reserved, all zero
    assert segments_before == segments_after                # program headers unchanged
    stack_map = parse_stackmap(content)
    assert stack_map.pattern == symbols["__fwh_watermark_pattern"] == 0xC5C5C5C5
    report = json.loads((elf.parent / "verify.json").read_text())
    for entry in stack_map.entries:
        label = entry.name
        assert entry.base == symbols[f"__fwh_{label}_stack_start"]
        assert entry.base + entry.size == symbols[f"__fwh_{label}_stack_end"]
        assert (entry.guard_base, entry.guard_size) == (symbols[f"__fwh_{label}_guard_start"], 128)
        assert (entry.watermark_base, entry.watermark_size) == (entry.base, entry.size)
        assert entry.mirror == symbols[f"__fwh_{label}_mirror_start"] and entry.mirror_size == 40
        assert entry.worst_case is not None
        assert entry.worst_case.bytes == report[f"{label}_stack"]["worst_case"]


def test_scons_run_passes_the_exit_status_and_stops_a_hang(tmp_path: Path) -> None:
    overflow = tmp_path / "overflow"
    built_copy(FIRMWARE / "overflow", overflow, "mps2-an386")
    result = scons(overflow, "board=mps2-an386", "run", check=False)
    assert result.returncode == 70
    hang = tmp_path / "hang"
    built_copy(FIRMWARE / "hang", hang, "sifive-e")
    result = scons(hang, "board=sifive-e", "run", "run_timeout=2", check=False)
    assert result.returncode == 124
    assert "hang: waiting forever" in result.stdout + result.stderr
    assert "still running after 2 s under sifive_e, stopped" in result.stderr


def test_decode_fault_without_a_fault_line(tmp_path: Path) -> None:
    elf = built_copy(EXAMPLE, tmp_path / "demo", "mps2-an386")
    log = tmp_path / "clean.log"
    log.write_text("irq-demo on mps2-an386: low=3 high=3 nested=3\n")
    result = fwharden("decode-fault", "--elf", str(elf), str(log))
    assert result.returncode == 2 and "no FWH-FAULT line" in result.stderr


def test_uart_console_from_the_profile(tmp_path: Path) -> None:
    """A board variant whose [console] is the CMSDK UART: the fault line arrives on the
    UART (QEMU's stdout), not on semihosting (its stderr); the exit still works."""
    project = copy_project(FIRMWARE / "overflow", tmp_path / "overflow")
    (project / "boards").mkdir()
    (project / "boards" / "mps2-uart.toml").write_text(
        'schema_version = 1\ninherits = "mps2-an386"\n\n[board]\nname = "mps2-uart"\n\n'
        '[console]\nkind = "uart"\nuart = "cmsdk"\nbase = 0x40004000\n')
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text().replace('sources = ["src/*.c"]',
                                             'sources = ["src/*.c"]\nboard_dirs = ["boards"]'))
    result = scons(project, "board=mps2-uart", "run", check=False)
    assert result.returncode == 70, result.stderr
    assert "FWH-FAULT v=1 arch=arm type=MemManage" in result.stdout
    assert "FWH-FAULT" not in result.stderr


def _struct_members(elf: Path, name: str) -> list[tuple[str, int]]:
    """(member, byte offset) of a C struct, from the ELF's DWARF."""
    with elf.open("rb") as stream:
        dwarf = ELFFile(stream).get_dwarf_info()
        for unit in dwarf.iter_CUs():
            for die in unit.iter_DIEs():
                attr = die.attributes.get("DW_AT_name")
                if die.tag == "DW_TAG_structure_type" and attr and attr.value == name.encode():
                    return [(child.attributes["DW_AT_name"].value.decode(),
                             child.attributes["DW_AT_data_member_location"].value)
                            for child in die.iter_children() if child.tag == "DW_TAG_member"]
    raise AssertionError(f"struct {name} not in {elf}")


@pytest.mark.parametrize("board", ["mps2-an386", "sifive-e", "mps2-an505", "microbit"])
def test_raw_fault_record_decodes(board: str, tmp_path: Path) -> None:
    """decode-fault --record reads the .noinit record; its layout is the runtime's struct."""
    from fwharden.harden.faults.parse import ARM_RECORD, RECORD_MAGIC, RISCV_RECORD

    elf = built_copy(FIRMWARE / "overflow", tmp_path / "overflow", board)
    members = _struct_members(elf, "fwh_fault_record")
    expected = ARM_RECORD if load_profile(board).cpu.family == "arm" else RISCV_RECORD
    assert members == [("magic", 0)] + [(n, 4 * (i + 1)) for i, n in enumerate(expected)]
    # A record as the runtime leaves it after the overflow the guard stops.
    result = run(board, elf)
    line = next(x for x in (result.stdout + result.stderr).splitlines()
                if x.startswith("FWH-FAULT"))
    fields = {k: int(v, 16) for k, v in (p.split("=") for p in line.split()[4:])
              if "@" not in k and v.startswith("0x")}
    fields["count"] = 1
    values = [RECORD_MAGIC] + [fields[name] for name in expected]
    raw = tmp_path / "record.bin"
    raw.write_bytes(b"".join(v.to_bytes(4, "little") for v in values))
    text = fwharden("decode-fault", "--elf", str(elf), "--record", str(raw), "--json")
    assert text.returncode == 0, text.stderr
    data = json.loads(text.stdout)
    assert data["stack"] == "isr" and "overflow of the interrupt stack" in data["summary"]
    if board == "microbit":
        # ARMv6-M: no status registers and no stacked frame; the record's MSP tells.
        assert data["pc"] is None and "below the stack's lowest address" in data["summary"]
    else:
        assert data["pc"]["function"] == "overflow_body"
    bad = fwharden("decode-fault", "--elf", str(elf), "--record", str(elf))
    assert bad.returncode == 2 and "not a fwharden fault record" in bad.stderr


@pytest.mark.parametrize("board", ["mps2-an386", "mps2-an505", "netduinoplus2"])
def test_fault_capture_skips_the_fp_frame(board: str, tmp_path: Path) -> None:
    """A fault in a handler that used the FPU: the core stacks the 104-byte extended frame
    (EXC_RETURN bit 4 clear, ARM DDI 0403E B1.5.7), and the stack words the runtime prints
    start right above it, where the handler's own markers are."""
    project = copy_project(FIRMWARE / "overflow", tmp_path / "fp")
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text().replace(
        'sources = ["src/*.c"]', 'sources = ["src/*.c"]\ndefines = ["OVERFLOW_FP_FAULT=1"]'))
    scons(project, f"board={board}")
    result = run(board, project / "build" / board / "firmware.elf")
    assert result.returncode == 70, result.stdout + result.stderr
    line = next(x for x in (result.stdout + result.stderr).splitlines()
                if x.startswith("FWH-FAULT"))
    fields = dict(re.findall(r" (\w+)=(0x[0-9a-f]+)", line))
    words_at, words = re.search(r"words@(0x[0-9a-f]+)=([0-9a-fx,]+)", line).groups()
    exc_return, sp, xpsr = (int(fields[k], 16) for k in ("exc_return", "sp", "xpsr"))
    assert "type=UsageFault" in line and int(fields["cfsr"], 16) == 1 << 16  # UNDEFINSTR
    assert exc_return & 0x10 == 0, "the extended (FP) frame was not stacked"
    assert int(fields["frame"], 16) == 1
    pad = 4 if xpsr & (1 << 9) else 0
    assert int(words_at, 16) == sp + 104 + pad
    assert words.split(",")[:4] == ["0xfa570001", "0xfa570002", "0xfa570003", "0xfa570004"]
