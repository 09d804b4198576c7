"""import-makefile gives the compiler the flags a make recipe gives it: the shell that make
runs each recipe line with removes quotes and backslashes, and the real /bin/sh is the oracle."""

from __future__ import annotations

import subprocess
from pathlib import Path

import tomllib

from fwharden.importer.project import import_makefile

MAKE_WORDS = r'-DSTM32F407xx -DFW_VERSION=\"1.0\" -DGREETING="\"hello world\""'


def _sh_words(text: str) -> list[str]:
    """The argv /bin/sh builds from `text`, as a recipe line `gcc $(C_DEFS)` would pass it."""
    out = subprocess.run(["/bin/sh", "-c", f"for w in {text}; do printf '%s\\n' \"$w\"; done"],
                         capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def test_quoted_defines_reach_the_compiler_as_the_shell_passes_them(tmp_path: Path) -> None:
    (tmp_path / "main.c").write_text("int main(void) { return 0; }\n")
    (tmp_path / "board.ld").write_text("")
    makefile = tmp_path / "Makefile"
    makefile.write_text(f"C_DEFS = {MAKE_WORDS}\nC_SOURCES = main.c\nLDSCRIPT = board.ld\n"
                        "CFLAGS = $(C_DEFS) -O1 -DEXTRA=\\\"x\\\"\n")
    project = tomllib.loads(import_makefile(makefile).firmware_toml)["project"]
    expected = [w.removeprefix("-D") for w in _sh_words(MAKE_WORDS)]
    assert expected == ['STM32F407xx', 'FW_VERSION="1.0"', 'GREETING="hello world"']
    assert [d for d in project["defines"] if d in expected] == expected
    assert '-DEXTRA="x"' in project.get("cflags", []) + [f"-D{d}" for d in project["defines"]]
