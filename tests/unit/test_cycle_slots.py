"""Issue 17 item 4 without a cross compiler: the irq_cycles key, the generated wrappers, the
stack map's cycle-slot trailer and reading the slots back from a memory image."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from fwharden.board_profiles import ConfigError, ProjectError, load_profile
from fwharden.board_profiles.project import load_project
from fwharden.harden.faults.stackmap import (
    CYCLES,
    DESCRIPTOR,
    HEADER,
    CycleSlots,
    StackEntry,
    build_stackmap,
    parse_stackmap,
    read_cycle_slots,
)
from fwharden.linker import build_layout, render_vector_table
from fwharden.scons.build import select

HEAD = 'schema_version = 1\n[project]\nname = "p"\nboard = "mps2-an386"\nsources = ["src/*.c"]\n'


def _project(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "firmware.toml"
    path.write_text(HEAD + text)
    return path


def test_the_key_is_off_by_default_and_the_command_line_wins(tmp_path: Path) -> None:
    assert load_project(_project(tmp_path, "")).irq_cycles is False
    path = _project(tmp_path, "[runtime]\nirq_cycles = true\n")
    assert load_project(path).irq_cycles is True
    assert select(path, {}).project.irq_cycles is True
    assert select(path, {"irq_cycles": "0"}).project.irq_cycles is False


def test_bad_values_are_one_line_naming_the_key(tmp_path: Path) -> None:
    with pytest.raises(ProjectError) as info:
        load_project(_project(tmp_path, '[runtime]\nirq_cycles = "yes"\n'))
    assert "runtime.irq_cycles" in str(info.value) and "\n" not in str(info.value)
    with pytest.raises(ProjectError, match="runtime.colour"):
        load_project(_project(tmp_path, "[runtime]\ncolour = 1\n"))
    with pytest.raises(ConfigError, match="irq_cycles: 'maybe' is not 0 or 1"):
        select(_project(tmp_path, ""), {"irq_cycles": "maybe"})
    # TinyGo and vendor builds bring their own vector table: refused, not ignored.
    with pytest.raises(ConfigError, match="runtime.irq_cycles: needs fwharden's vector"):
        select(_project(tmp_path, "[runtime]\nirq_cycles = true\n"), {"toolchain": "tinygo"})


def _table(source: str) -> list[str]:
    body = source.split("const uintptr_t fwh_vector_table[", 1)[1]
    return re.findall(r"^    (\S+),\s+/\*", body, re.M)


def test_cortex_m_slots_from_systick_up_point_at_wrappers() -> None:
    layout = build_layout(load_profile("stm32f407"))
    plain, timed = render_vector_table(layout), render_vector_table(layout, irq_cycles=True)
    assert "fwh_timed_" not in plain and "fwh_irq_cycles_max" not in plain
    before, after = _table(plain), _table(timed)
    assert len(before) == len(after) == layout.profile.vector_count
    for index, (old, new) in enumerate(zip(before, after, strict=True)):
        if index >= 15 and old != "0":
            handler = old.removeprefix("(uintptr_t)")
            assert new == f"(uintptr_t)fwh_timed_{handler}"
            # The wrapper calls the handler between begin and end of its own slot.
            assert re.search(rf"fwh_timed_{handler}\(void\)\n\{{\n.*\n"
                             rf"    fwh_irq_cycles_begin\(&run\);\n    {handler}\(\);\n"
                             rf"    fwh_irq_cycles_end\({index}u, &run\);", timed)
        else:
            assert new == old   # SP, reset, NMI, faults, SVCall, PendSV: unchanged
    assert f"uint32_t fwh_irq_cycles_max[{layout.profile.vector_count}];" in timed


def test_riscv_keeps_its_table_and_gets_the_slots() -> None:
    layout = build_layout(load_profile("fe310"))
    timed = render_vector_table(layout, irq_cycles=True)
    assert "fwh_timed_" not in timed
    assert f"fwh_irq_cycles_slots = {layout.profile.vector_count}u;" in timed


def _entry(ident: int, name: str, base: int) -> StackEntry:
    return StackEntry(id=ident, name=name, base=base, size=0x400, guard_base=base - 32,
                      guard_size=32, mirror=0x2000_8000, mirror_size=40,
                      watermark_base=base, watermark_size=0x400)


def test_the_trailer_round_trips_and_a_map_without_it_has_none() -> None:
    entries = [_entry(0, "isr", 0x2000_0100), _entry(1, "thread", 0x2000_0600)]
    slots = CycleSlots(counter=0x2000_000C, slots=0x2000_0210, count=48)
    data = build_stackmap(entries, 0xC5C5C5C5, {}, 256, slots)
    assert len(data) == 256
    offset = HEADER.size + 2 * DESCRIPTOR.size
    assert data[offset:offset + 4] == b"FWHC"
    assert CYCLES.unpack_from(data, offset)[1:] == (0x2000_000C, 0x2000_0210, 48)
    assert parse_stackmap(data).cycles == slots
    assert parse_stackmap(build_stackmap(entries, 0, {}, 256)).cycles is None
    # A map that ends right after its descriptors (no room for a trailer) reads too.
    assert parse_stackmap(build_stackmap(entries, 0, {}, offset)).cycles is None


def test_slots_read_back_from_a_ram_image() -> None:
    base = 0x2000_0000
    ram = bytearray(0x400)
    struct.pack_into("<I", ram, 0x0C, 2)                     # counter: mcycle
    struct.pack_into("<16I", ram, 0x100, *([0] * 3 + [4711] + [0] * 3 + [99] + [0] * 8))

    def read(address: int, size: int) -> bytes:
        return bytes(ram[address - base:address - base + size])
    name, values = read_cycle_slots(CycleSlots(base + 0x0C, base + 0x100, 16), read)
    assert (name, values) == ("mcycle", {3: 4711, 7: 99})
    struct.pack_into("<I", ram, 0x0C, 9)
    assert read_cycle_slots(CycleSlots(base + 0x0C, base + 0x100, 16), read)[0] == \
        "unknown (9)"
