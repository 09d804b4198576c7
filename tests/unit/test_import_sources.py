"""import-makefile on hand-written Makefiles: other source variable names, an empty source
list is an error (never a firmware.toml with no sources), the MCU define from DEFINES."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwharden.board_profiles import ConfigError
from fwharden.importer.project import import_makefile


def test_c_srcs_and_ld_script_of_a_hand_written_makefile(tmp_path: Path) -> None:
    (tmp_path / "main.c").write_text("int main(void) { return 0; }\n")
    (tmp_path / "board.ld").write_text("")
    makefile = tmp_path / "Makefile"
    makefile.write_text("DEFINES += -DUSE_FULL_LL_DRIVER -DSTM32H743xx\nC_SRCS += main.c\n"
                        "LD_SCRIPT := board.ld -static\nCFLAGS = $(DEFINES) -O1\n")
    result = import_makefile(makefile)
    assert result.board == "stm32h743"
    assert 'sources = [\n    "main.c",\n]' in result.firmware_toml
    assert 'linker_script = "board.ld"' in result.firmware_toml
    assert "Makefile:2: sources taken from C_SRCS (no C_SOURCES)" in result.warnings


def test_no_sources_is_an_error_naming_the_candidates(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text("C_DEFS = -DSTM32F407xx\nMY_SRC_LIST = a.c\nLDSCRIPT = x.ld\n")
    with pytest.raises(ConfigError) as error:
        import_makefile(makefile)
    assert "C_SOURCES: no sources" in str(error.value) and "MY_SRC_LIST" in str(error.value)


def test_sources_found_through_vpath_and_VPATH_as_make_finds_them(tmp_path: Path) -> None:
    """make searches `vpath %.c DIRS` patterns in order, then VPATH, for a prerequisite not
    found as written (GNU make manual 4.4); the imported list names the file make compiles."""
    for rel in ("src/main.c", "drivers/uart.c", "lib/uart.c", "asm/start.s"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("\n")
    (tmp_path / "board.ld").write_text("")
    makefile = tmp_path / "Makefile"
    makefile.write_text("C_DEFS = -DSTM32F407xx\nLDSCRIPT = board.ld\nDIRS := src drivers\n"
                        "vpath %.c $(DIRS)\nvpath %.h include\nVPATH = lib:asm\n"
                        "C_SOURCES = main.c uart.c gone.c\nASM_SOURCES = start.s\n")
    result = import_makefile(makefile)
    listed = result.firmware_toml.split("sources = [", 1)[1].split("]", 1)[0]
    # uart.c: drivers/ (the vpath pattern) comes before lib/ (VPATH), as make searches.
    assert [w.strip(' ",') for w in listed.split("\n") if w.strip()] == [
        "src/main.c", "drivers/uart.c", "gone.c", "asm/start.s"]
    assert any("gone.c does not exist (nor under vpath/VPATH src, drivers, lib, asm)" in w
               for w in result.warnings), result.warnings


def test_a_vpath_that_is_cleared_is_not_searched(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src/main.c").write_text("\n")
    (tmp_path / "board.ld").write_text("")
    makefile = tmp_path / "Makefile"
    makefile.write_text("C_DEFS = -DSTM32F407xx\nLDSCRIPT = board.ld\nvpath %.c src\n"
                        "vpath %.c\nC_SOURCES = main.c\n")
    result = import_makefile(makefile)
    assert '"main.c"' in result.firmware_toml
    assert any("main.c does not exist; kept" in w for w in result.warnings)


def test_cubemx_vpath_with_functions_gives_no_warning_when_every_source_exists(
        tmp_path: Path) -> None:
    (tmp_path / "Core/Src").mkdir(parents=True)
    (tmp_path / "Core/Src/main.c").write_text("\n")
    (tmp_path / "board.ld").write_text("")
    makefile = tmp_path / "Makefile"
    makefile.write_text("C_DEFS = -DSTM32F407xx\nLDSCRIPT = board.ld\n"
                        "C_SOURCES = Core/Src/main.c\nvpath %.c $(sort $(dir $(C_SOURCES)))\n")
    result = import_makefile(makefile)
    assert not any("vpath" in w for w in result.warnings), result.warnings
