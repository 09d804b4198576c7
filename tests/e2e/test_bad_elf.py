"""Damaged, edited and misplaced inputs to `fwharden verify` (issue 20, items 2-4): one line,
exit 2, never a traceback; .su files only from where the build or the user says."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, built_copy, fwharden

from fwharden.harden.elf.image import open_elf

SOURCE = REPO / "tests" / "firmware" / "verify"
BOARD = "mps2-an500"


@pytest.fixture(scope="module")
def elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The verify test firmware (findings with source lines), built with its .su files."""
    return built_copy(SOURCE, tmp_path_factory.mktemp("bad") / "fw", BOARD)


def _one_line_exit_2(*args: str) -> str:
    result = fwharden(*args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def _objcopy(elf: Path, out: Path, *edits: str) -> Path:
    subprocess.run(["arm-none-eabi-objcopy", *edits, str(elf), str(out)], check=True)
    return out


def test_without_debug_line_verify_still_reports(elf: Path, tmp_path: Path) -> None:
    edited = _objcopy(elf, tmp_path / "noline.elf", "--remove-section", ".debug_line")
    result = fwharden("verify", str(edited), "--board", BOARD, "--json", str(tmp_path / "r.json"))
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    findings = json.loads((tmp_path / "r.json").read_text())["findings"]
    assert findings and all(f.get("file") is None for f in findings)


def _section_offset(path: Path, name: str) -> tuple[int, int]:
    with open_elf(path) as elf_file:
        section = elf_file.get_section_by_name(name)
        return section["sh_offset"], section["sh_size"]


# Each edit makes pyelftools raise one of the exceptions the issue lists, at the point where
# verify looks up the source lines of its findings (found by tests/fuzz/ and a search over
# single-byte edits). The offsets are those of fields in each unit's header (DWARF 4,
# 6.1.2 and 6.2.4), so the edits hold for any build.
@pytest.mark.parametrize(("section", "offset", "value", "raised"), [
    (".debug_aranges", 6, b"\x00\xff\xff\x7f", "DWARFError"),   # debug_info_offset
    (".debug_aranges", 11, b"\x04", "NotImplementedError"),         # segment_selector_size
    (".debug_line", 4, b"\x09\x00", "TypeError"),                  # version 9
])
def test_damaged_dwarf_is_one_line(elf: Path, tmp_path: Path, section: str, offset: int,
                                   value: bytes, raised: str) -> None:
    damaged = tmp_path / "damaged.elf"
    data = bytearray(elf.read_bytes())
    start, size = _section_offset(elf, section)
    unit = start
    while unit < start + size:  # the same edit in every unit's header (32-bit DWARF)
        length = int.from_bytes(data[unit:unit + 4], "little")
        data[unit + offset:unit + offset + len(value)] = value
        unit += 4 + length
    damaged.write_bytes(bytes(data))
    line = _one_line_exit_2("verify", str(damaged), "--board", BOARD)
    assert f"{damaged}: damaged DWARF debug information ({raised}" in line


def test_more_code_than_verify_analyses(elf: Path, tmp_path: Path) -> None:
    """50 MB of valid code took 2.7 GB to decode: code beyond 16 MiB is refused."""
    from fwharden.harden.elf.image import CODE_LIMIT
    filler = tmp_path / "filler.bin"
    filler.write_bytes(b"\x00\xbf" * (CODE_LIMIT // 2 + 8))   # nop, nop, ...
    big = _objcopy(elf, tmp_path / "big.elf", "--add-section", f".big={filler}",
                   "--set-section-flags", ".big=alloc,load,code,readonly",
                   "--change-section-address", ".big=0x10000000")
    line = _one_line_exit_2("verify", str(big), "--board", BOARD)
    assert f"more than the {CODE_LIMIT} verify analyses" in line


def test_stack_end_without_start(elf: Path, tmp_path: Path) -> None:
    edited = _objcopy(elf, tmp_path / "nostart.elf", "--strip-symbol", "__fwh_isr_stack_start",
                      "--strip-symbol", "__fwh_isr_stack_size")
    line = _one_line_exit_2("verify", str(edited), "--board", BOARD)
    assert "__fwh_isr_stack_end without a __fwh_isr_stack_start" in line


def test_stray_su_beside_the_elf_is_not_read(elf: Path, tmp_path: Path) -> None:
    """verify ~/Downloads/fw.elf must not walk ~/Downloads: a .su there claiming a huge
    frame for a handler changes nothing unless the user passes it."""
    folder = tmp_path / "downloads"
    (folder / "other").mkdir(parents=True)
    copy = folder / "fw.elf"
    shutil.copy(elf, copy)
    clean = fwharden("verify", str(copy), "--board", BOARD, "--json", str(tmp_path / "a.json"))
    stray = folder / "other" / "irq.su"
    stray.write_text("irq.c:10:6:TIMER0_IRQHandler\t100000\tstatic\n")
    os.mkfifo(folder / "other" / "pipe.su")  # a FIFO named *.su: never opened
    again = fwharden("verify", str(copy), "--board", BOARD, "--json", str(tmp_path / "b.json"))
    assert clean.returncode == again.returncode == 1, again.stderr
    assert (tmp_path / "a.json").read_text() == (tmp_path / "b.json").read_text()
    asked = fwharden("verify", str(copy), "--board", BOARD, "--su", str(stray),
                     "--json", str(tmp_path / "c.json"))
    assert asked.returncode == 1, asked.stderr
    data = json.loads((tmp_path / "c.json").read_text())
    timer = next(i for i in data["interrupts"] if i["name"] == "TIMER0_IRQHandler")
    assert timer["stack"]["bytes"] >= 100000
    line = _one_line_exit_2("verify", str(copy), "--board", BOARD, "--su",
                            str(folder / "other" / "pipe.su"))
    assert "pipe.su: is a FIFO" in line


def test_json_to_stdout_and_link_to_fifo(elf: Path, tmp_path: Path) -> None:
    result = fwharden("verify", str(elf), "--board", BOARD, "--json", "-")
    assert result.returncode == 1
    assert json.loads(result.stdout)["verdict"] == "fail"
    assert "verdict: FAIL" in result.stderr
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "stdout"
    link.symlink_to(fifo)
    line = _one_line_exit_2("verify", str(elf), "--board", BOARD, "--sarif", str(link))
    assert f"{link}: is a FIFO, not a regular file" in line
    assert link.is_symlink() and Path(os.readlink(link)) == fifo
    line = _one_line_exit_2("verify", str(elf), "--board", BOARD, "--json", str(tmp_path))
    assert "is a directory" in line
