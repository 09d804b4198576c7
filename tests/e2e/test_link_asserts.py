"""The generated script's ASSERTs stop a bad link with an ERROR(fwharden) message."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import scons

OVERSIZED_TABLE = """\
#include <stdint.h>
/* A second vector table fragment: the board's table is now too long. */
__attribute__((section(".isr_vector"), used)) const uint32_t extra_vectors[300];
"""


@pytest.mark.parametrize("toolchain", ["gcc", "clang"])
def test_vector_table_too_long_fails_the_link(example: Path, toolchain: str) -> None:
    (example / "src" / "extra.c").write_text(OVERSIZED_TABLE)
    result = scons(example, "board=mps2-an500", f"toolchain={toolchain}", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "ERROR(fwharden): the vector table is larger than the 48 entries of board " \
           "mps2-an500; fix:" in output
    assert not (example / "build" / "mps2-an500" / "firmware.elf").exists()


def test_bss_that_runs_into_the_stack_block_fails_the_link(example: Path) -> None:
    # On mps2 the stacks share SSRAM2/3 with .data/.bss: the MEMORY entry for the rest of
    # the region ends where the stack block begins, so a too-large .bss cannot reach it.
    (example / "src" / "big.c").write_text("char big_buffer[(4u << 20) - 8192];\n")
    toml = example / "firmware.toml"
    toml.write_text(toml.read_text().replace(
        'defines = ["DEMO_ROUNDS=3"]',
        'defines = ["DEMO_ROUNDS=3"]\nldflags = ["-Wl,--undefined=big_buffer"]'))
    result = scons(example, "board=mps2-an386", check=False)
    assert result.returncode != 0
    assert "region `SSRAM23' overflowed" in result.stdout + result.stderr
