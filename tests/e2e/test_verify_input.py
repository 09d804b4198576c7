"""Bad input to `fwharden verify`: one clear line, exit status 2, never a traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLE, built_copy, fwharden


@pytest.fixture(scope="module")
def arm_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_copy(EXAMPLE, tmp_path_factory.mktemp("input") / "demo", "mps2-an386")


def _one_line_exit_2(*args: str) -> str:
    result = fwharden("verify", *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_not_an_elf(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello\n")
    assert f"{path}: not an ELF file" in _one_line_exit_2(str(path))


def test_missing_file(tmp_path: Path) -> None:
    assert "cannot open" in _one_line_exit_2(str(tmp_path / "nope.elf"))


@pytest.mark.parametrize("keep", [52, 600, 2000])
def test_truncated(arm_elf: Path, tmp_path: Path, keep: int) -> None:
    path = tmp_path / "cut.elf"
    path.write_bytes(arm_elf.read_bytes()[:keep])
    line = _one_line_exit_2(str(path))
    assert str(path) in line


def test_stripped(arm_elf: Path, tmp_path: Path) -> None:
    path = tmp_path / "stripped.elf"
    subprocess.run(["arm-none-eabi-strip", "-o", str(path), str(arm_elf)], check=True)
    assert "no symbol table (stripped?)" in _one_line_exit_2(str(path))


def test_wrong_architecture_for_board(arm_elf: Path) -> None:
    line = _one_line_exit_2(str(arm_elf), "--board", "fe310")
    assert "cannot be checked against board fe310" in line


def test_host_elf_is_rejected() -> None:
    assert "is not a 32-bit ARM or RISC-V firmware" in _one_line_exit_2("/bin/true")


def test_bad_config(arm_elf: Path, tmp_path: Path) -> None:
    config = tmp_path / "firmware.toml"
    config.write_text('schema_version = 1\n[project]\nname = "x"\nboard = "mps2-an386"\n'
                      'sources = ["*.c"]\n[harden]\nfail_on = "sometimes"\n')
    line = _one_line_exit_2(str(arm_elf), "--config", str(config))
    assert f"{config}: harden.fail_on: 'sometimes' is not supported" in line


def test_clean_example_passes(arm_elf: Path) -> None:
    result = fwharden("verify", str(arm_elf), "--board", "mps2-an386")
    assert result.returncode == 0, result.stdout
    assert "verdict: PASS" in result.stdout and "no findings" in result.stdout


@pytest.mark.parametrize(("edits", "board", "source"), [
    ([], None, "section .isr_vector"),
    (["--rename-section", ".isr_vector=.startup_table"], None, "symbol fwh_vector_table"),
    (["--rename-section", ".isr_vector=.startup_table", "--strip-symbol", "fwh_vector_table"],
     "mps2-an386", "boot address 0x00000000 of board mps2-an386"),
    (["--rename-section", ".isr_vector=.startup_table", "--strip-symbol", "fwh_vector_table"],
     None, "word 1 = entry point"),
])
def test_vector_table_is_found_every_way(arm_elf: Path, tmp_path: Path, edits: list[str],
                                         board: str | None, source: str) -> None:
    import json
    import subprocess

    elf = tmp_path / "edited.elf"
    subprocess.run(["arm-none-eabi-objcopy", *edits, str(arm_elf), str(elf)], check=True)
    args = ["verify", str(elf), "--json", str(tmp_path / "r.json")]
    if board:
        args += ["--board", board]
    result = fwharden(*args)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["vector_table"]["source"] == source
    names = {i["name"] for i in report["interrupts"]}
    assert {"UART0RX_IRQHandler", "UART0TX_IRQHandler"} <= names
