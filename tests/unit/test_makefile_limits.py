"""The Makefile reader on what it cannot or must not evaluate (issue 20, item 5): unknown
values with a warning naming file:line, never an exception or a hang; the firmware.toml
written from it always parses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fwharden.board_profiles import ConfigError
from fwharden.board_profiles.tomlread import tomllib
from fwharden.importer.makefile import read_makefile
from fwharden.importer.project import import_makefile

BASE = "LDSCRIPT = fw.ld\nC_DEFS = -DSTM32H743xx\nC_SOURCES = main.c\n"


def _read(tmp_path: Path, text: str, name: str = "Makefile"):
    path = tmp_path / name
    path.write_text(text)
    start = time.perf_counter()
    makefile = read_makefile(path)
    return makefile, time.perf_counter() - start


@pytest.mark.parametrize(("text", "variable", "line"), [
    ("TARGET = $(notdir $(CURDIR))\n", "TARGET", 1),
    ("X = 1\nTARGET = $(shell uname -n)\n", "TARGET", 2),
    ("TARGET = fw$(oops\n", "TARGET", 1),
    ("A = $(A)\nTARGET = $(A)\n", "TARGET", 2),
])
def test_unknown_value_is_a_warning_with_file_and_line(tmp_path: Path, text: str,
                                                       variable: str, line: int) -> None:
    makefile, _ = _read(tmp_path, text)
    assert makefile.value(variable) == ""
    assert any(w.startswith(f"Makefile:{line}: {variable}: cannot evaluate")
               for w in makefile.warnings), makefile.warnings


def test_recursive_list_variable(tmp_path: Path) -> None:
    makefile, _ = _read(tmp_path, "C_SOURCES = a.c $(C_SOURCES)\nB = $(C)\nC = $(B) x.c\n")
    assert makefile.words("C_SOURCES") == ["a.c"]
    assert makefile.words("B") == ["x.c"]
    assert any("recursive variable reference" in w for w in makefile.warnings)


def test_exponential_chain_is_cut_quickly(tmp_path: Path) -> None:
    lines = ["A0 = x"] + [f"A{i} = $(A{i - 1})$(A{i - 1})" for i in range(1, 64)]
    simple = ["S0 := x"] + [f"S{i} := $(S{i - 1})$(S{i - 1})" for i in range(1, 64)]
    makefile, elapsed = _read(tmp_path, "\n".join(lines + simple + ["T = $(A63)"]) + "\n")
    assert makefile.value("T") == "" and makefile.value("A10") == "x" * 1024
    start = time.perf_counter()
    makefile.words("A63")
    assert elapsed + time.perf_counter() - start < 5
    assert any("cannot evaluate" in w for w in makefile.warnings)


def test_self_include_and_include_loops(tmp_path: Path) -> None:
    (tmp_path / "b.mk").write_text("include Makefile\nB = 1\n")
    makefile, elapsed = _read(tmp_path, "include Makefile Makefile b.mk\nX = $(B)\n" * 10)
    assert makefile.value("X") == "1" and elapsed < 5
    assert any("includes itself" in w for w in makefile.warnings)


def test_deeply_nested_conditionals(tmp_path: Path) -> None:
    depth = 100_000
    text = "ifeq (a,a)\n" * depth + "X = deep\n" + "endif\n" * depth + "Y = out\n"
    makefile, elapsed = _read(tmp_path, text)
    assert makefile.value("X") == "deep" and makefile.value("Y") == "out"
    assert elapsed < 10


def test_many_warnings_are_capped(tmp_path: Path) -> None:
    text = "".join(f"V{i} := $(shell echo {i})\n" for i in range(5000))
    makefile, elapsed = _read(tmp_path, text)
    assert len(makefile.warnings) == 201 and makefile.warnings[-1].startswith("... and 4800")
    assert elapsed < 5


@pytest.mark.parametrize("target", ["fw\x01\x1b[31m", 'a"b\\c', "tab\there", "del\x7f"])
def test_written_toml_always_parses(tmp_path: Path, target: str) -> None:
    (tmp_path / "Makefile").write_text(f"TARGET = {target}\n" + BASE)
    result = import_makefile(tmp_path / "Makefile", "stm32h743")
    data = tomllib.loads(result.firmware_toml)
    assert data["project"]["name"] == target.strip()


def test_toml_parses_with_unknown_target(tmp_path: Path) -> None:
    (tmp_path / "Makefile").write_text("TARGET = $(notdir $(CURDIR))\n" + BASE)
    result = import_makefile(tmp_path / "Makefile", "stm32h743")
    assert tomllib.loads(result.firmware_toml)["project"]["name"] == tmp_path.name
    assert any("Makefile:1: TARGET" in w for w in result.warnings)


def test_makefile_that_is_a_fifo(tmp_path: Path) -> None:
    import os
    os.mkfifo(tmp_path / "Makefile")
    with pytest.raises(ConfigError, match="no such Makefile|is a FIFO"):
        import_makefile(tmp_path / "Makefile", "stm32h743")
