"""Mutated ELFs through the loader and the DWARF line table: a HardenError of one line
(no control characters, no raw bytes) or a result, never another exception."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

from fwharden.harden.elf.image import load_image, open_elf
from fwharden.harden.elf.lines import LineTable
from fwharden.harden.errors import HardenError

HERE = Path(__file__).resolve().parent
# One seed per family, DWARF 4 on ARM and DWARF 5 on RISC-V: both line-table formats.
COMPILERS = {
    "arm": ["arm-none-eabi-gcc", "-mcpu=cortex-m4", "-mthumb", "-gdwarf-4"],
    "riscv": ["riscv64-unknown-elf-gcc", "-march=rv32imac_zicsr", "-mabi=ilp32", "-gdwarf-5"],
}


@pytest.fixture(scope="session", params=sorted(COMPILERS))
def seed_elf(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small firmware ELF with symbols, a vector table and DWARF line tables."""
    family = request.param
    out = tmp_path_factory.mktemp(f"seed-{family}") / "seed.elf"
    subprocess.run([*COMPILERS[family], "-O1", "-g", "-ffreestanding", "-ffunction-sections",
                    "-nostdlib", "-nostartfiles", "-Wl,-e,Reset_Handler", "-Wl,-Ttext=0x100",
                    "-o", str(out), str(HERE / "fuzz_seed.c")], check=True, capture_output=True)
    return out


# (offset, byte) overwrites; offsets are taken modulo the file size.
EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1,
                 max_size=24)


def _one_line(exc: HardenError) -> None:
    message = str(exc)
    assert message.isprintable(), repr(message)
    assert len(message) < 1000


def _apply(seed: bytes, edits: list[tuple[int, int]], base: int = 0, span: int = 0) -> bytes:
    data = bytearray(seed)
    for offset, value in edits:
        where = base + offset % span if span else offset % len(data)
        data[where] = value
    return bytes(data)


def _exercise(path: Path) -> None:
    try:
        image = load_image(path)
        lines = LineTable(path)
        for func in image.functions[:8]:
            lines.lookup(func.address)
        lines.lookup(image.entry)
    except HardenError as exc:
        _one_line(exc)


@budget(50)
@given(edits=EDITS, cut=st.one_of(st.none(), st.integers(0, 1 << 16)))
def test_mutated_elf(seed_elf: Path, tmp_path: Path, edits, cut) -> None:
    data = _apply(seed_elf.read_bytes(), edits)
    if cut is not None:
        data = data[:cut]
    path = tmp_path / "m.elf"
    path.write_bytes(data)
    _exercise(path)


def _debug_spans(path: Path) -> list[tuple[int, int]]:
    with open_elf(path) as elf:
        return [(s["sh_offset"], s["sh_size"]) for s in elf.iter_sections()
                if s.name.startswith(".debug_") and s["sh_size"]]


@budget(50)
@given(data=st.data())
def test_mutated_dwarf(seed_elf: Path, tmp_path: Path, data) -> None:
    """Edits only inside the .debug_* sections: what the line-table reader parses."""
    spans = _debug_spans(seed_elf)
    base, span = data.draw(st.sampled_from(spans))
    edits = data.draw(EDITS)
    path = tmp_path / "d.elf"
    path.write_bytes(_apply(seed_elf.read_bytes(), edits, base, span))
    _exercise(path)
