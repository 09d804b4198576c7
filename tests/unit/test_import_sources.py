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
