"""The `fwharden` command: boards, board show, linker-script, init."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import ALL_BOARDS, GOLDEN, fwharden, scons


def test_boards_table_and_json() -> None:
    text = fwharden("boards")
    assert text.returncode == 0
    for board in ALL_BOARDS:
        assert any(line.startswith(board + " ") for line in text.stdout.splitlines()), board
    rows = json.loads(fwharden("boards", "--json").stdout)
    by_name = {row["name"]: row for row in rows}
    assert by_name["stm32h743"]["core"] == "cortex-m7"
    assert by_name["sifive-e"]["qemu"] == "sifive_e"


def test_board_show_gives_resolved_profile_and_layout() -> None:
    data = json.loads(fwharden("board", "show", "stm32f407", "--json").stdout)
    assert data["inherits"] == ["stm32f4"]
    assert data["cpu"]["fpu"] == "fpv4-sp-d16"          # from the family file
    assert data["stacks"]["region"] == "ccm"
    isr = next(s for s in data["layout"]["stacks"] if s["name"] == "isr")
    assert isr["stack"]["end"] == 0x10010000             # top of CCM
    assert isr["guard"]["end"] == isr["stack"]["start"]
    text = fwharden("board", "show", "stm32f407").stdout
    assert "inherits    stm32f4" in text and "isr     stack 0x1000f800-0x10010000" in text


def test_linker_script_to_file(tmp_path: Path) -> None:
    out = tmp_path / "out.ld"
    result = fwharden("linker-script", "--board", "mps2-an500", "-o", str(out))
    assert result.returncode == 0 and result.stdout == ""
    assert out.read_text() == (GOLDEN / "mps2-an500.ld").read_text()
    assert list(tmp_path.iterdir()) == [out]  # no temporary file left behind
    flip = fwharden("linker-script", "--board", "mps2-an500", "--layout", "flip").stdout
    assert "__fwh_isr_guard_start = 0x1FFFFF80;" in flip


def test_unknown_board_exit_2() -> None:
    result = fwharden("linker-script", "--board", "nosuch")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "unknown board" in result.stderr


def test_init_scaffold_builds_and_runs(tmp_path: Path) -> None:
    project = tmp_path / "blinky"
    result = fwharden("init", str(project), "--board", "mps2-an386")
    assert result.returncode == 0, result.stderr
    sconstruct = (project / "SConstruct").read_text()
    assert sconstruct.count("\n") <= 6 and 'SetOption("num_jobs"' in sconstruct
    scons(project)
    elf = project / "build" / "mps2-an386" / "firmware.elf"
    run = subprocess.run(["qemu-system-arm", "-M", "mps2-an386", "-nographic", "-monitor",
                          "none", "-serial", "null", "-semihosting-config",
                          "enable=on,target=native", "-kernel", str(elf)],
                         capture_output=True, text=True, timeout=30, check=False)
    assert run.returncode == 0
    assert "hello from blinky" in run.stderr
    again = fwharden("init", str(project))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_toolchains_reports_versions_and_missing_ones() -> None:
    rows = {r["toolchain"]: r for r in json.loads(
        fwharden("toolchains", "--board", "stm32h743", "--json").stdout)}
    assert rows["gcc"]["found"] and "arm-none-eabi-gcc" in rows["gcc"]["versions"]
    assert rows["clang"]["found"] and rows["clang"]["libgcc"].endswith("libgcc.a")
    assert set(rows) == {"gcc", "clang", "tinygo"}
