"""Makefiles built from make's own syntax: the reader returns warnings, never raises or
hangs, and import-makefile writes a firmware.toml that parses (or a ConfigError)."""

from __future__ import annotations

from pathlib import Path

from fuzzing import budget
from hypothesis import given
from hypothesis import strategies as st

from fwharden.board_profiles import ConfigError
from fwharden.board_profiles.tomlread import tomllib
from fwharden.importer.makefile import read_makefile
from fwharden.importer.project import import_makefile

NAMES = ["TARGET", "C_SOURCES", "C_DEFS", "C_INCLUDES", "CFLAGS", "LDSCRIPT", "OPT", "A", "B"]
PIECES = [*(f"$({n})" for n in NAMES), *(f"${{{n}}}" for n in NAMES), "$(", ")", "${", "}",
          "$$", "$@", "$(A:.c=.o)", "$(B:%.c=%.o)", "$(shell uname)", "$(notdir $(CURDIR))",
          "$(wildcard *.c)", " = ", " := ", " += ", " ?= ", "::=", "\\\n", "#", "\n", "\t",
          " ", ":", "%", ",", "main.c", "-DSTM32H743xx", "-Iinc", "-O2", "fw.ld",
          "\nifeq ($(A),x)\n", "\nifdef B\n", "\nifneq (a,b)\n", "\nelse\n", "\nendif\n",
          "\ninclude Makefile\n", "\n-include other.mk\n", "\x01", "\x1b", '"', "\\"]
LINE = st.tuples(st.sampled_from(NAMES), st.sampled_from([" = ", " := ", " += ", " ?= "]),
                 st.lists(st.sampled_from(PIECES), max_size=8))
MAKEFILE = st.lists(st.one_of(LINE.map(lambda t: t[0] + t[1] + "".join(t[2]) + "\n"),
                              st.sampled_from(PIECES)), max_size=30).map("".join)


@budget(80)
@given(text=MAKEFILE)
def test_reader_never_raises(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Makefile"
    path.write_text(text)
    makefile = read_makefile(path)
    for name in NAMES:
        makefile.value(name)
        makefile.words(name)
    assert all(isinstance(w, str) and "\n" not in w for w in makefile.warnings)


@budget(60)
@given(text=MAKEFILE)
def test_import_writes_valid_toml(tmp_path: Path, text: str) -> None:
    path = tmp_path / "Makefile"
    path.write_text("LDSCRIPT = fw.ld\n" + text)
    try:
        result = import_makefile(path, "stm32h743")
    except ConfigError as exc:
        assert str(exc).startswith(str(path)) and str(exc).isprintable()
        return
    data = tomllib.loads(result.firmware_toml)
    assert data["project"]["board"] == "stm32h743"
