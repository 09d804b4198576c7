"""`fwharden init`: the files of a new project that builds as it is.

Writes a short SConstruct (the default `-j` is set there, where the user sees it), a
firmware.toml and a small main.c; refuses to overwrite
anything. Returns what it wrote; printing is the CLI's job.
"""

from __future__ import annotations

from pathlib import Path

from fwharden.board_profiles import ConfigError

SCONSTRUCT = """\
# fwharden project: `scons -h` lists the arguments (board=, opt=, VERBOSE=1, ...).
import os
import fwharden.scons
SetOption("num_jobs", os.cpu_count() or 1)  # every CPU; `scons -j N` on the command line wins
env = Environment(tools=["fwh"], toolpath=[fwharden.scons.TOOLPATH], FWH_ARGS=ARGUMENTS)
env.Firmware("firmware.toml")
"""

FIRMWARE_TOML = """\
# fwharden project file: `scons` builds it, `scons board=<name>` for another board.
schema_version = 1

[project]
name = "{name}"
board = "{board}"
toolchain = "gcc"          # or "clang"
opt = "2"
libc = "none"              # or "newlib-nano", "picolibc" (gcc)
sources = ["src/*.c"]
include_dirs = ["src"]
defines = []

# Stack sizes over the board's defaults (for every board):
# [stacks]
# isr_size = "2K"
# thread_size = "4K"

# Settings for one board only:
# [boards.{board}]
# defines = ["USE_FAST_CLOCK=1"]

[harden]
# Reserved for `fwharden verify`: the post-link interrupt-safety check.
"""

MAIN_C = """\
/* {name}: main() runs on the thread stack; interrupts run on the isolated interrupt stack
 * that fwharden's linker script places and guards. Name a handler from the generated
 * build/<board>/gen/fwh_vectors.c to take an interrupt. */
#include "fwharden.h"

int main(void)
{{
    fwh_puts("hello from {name}\\n");
    return 0;
}}
"""


def init_project(directory: Path, board: str, name: str | None = None) -> list[Path]:
    """Create the scaffold in `directory` (created if needed); never overwrites a file."""
    project = name or directory.resolve().name
    files = {
        directory / "SConstruct": SCONSTRUCT,
        directory / "firmware.toml": FIRMWARE_TOML.format(name=project, board=board),
        directory / "src" / "main.c": MAIN_C.format(name=project),
    }
    for path in files:
        if path.exists():
            raise ConfigError(path, "", "already exists",
                              "choose an empty directory or remove the file")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return list(files)
