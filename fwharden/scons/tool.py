"""`generate(env)` / `exists(env)` for the fwharden SCons tool, like SCons's own gcc.py.

`generate` only sets construction variables, builders and the `Firmware` method; the work
is done by the plain modules (board_profiles, toolchain, linker, harden) that `build.py`
wires together.

Construction variables (the table in README.md lists them too):
  FWH_ARGS          the command-line ARGUMENTS (board=, toolchain=, layout=, isr_size=, ...)
  FWH_BUILD_DIR     build/<board>
  FWH_OBJCOPY       objcopy of the selected toolchain
  FWH_OBJCOPYCOM    command for .bin/.hex, FWH_OBJCOPYCOMSTR its short form
  FWH_LINKCOM       link command, FWH_LINKCOMSTR its short form
  FWH_LIBS          libraries after the objects
"""

from __future__ import annotations

import os

from SCons.Script import GetOption, SetOption

from .build import firmware


def generate(env) -> None:
    """Load the C tools fwharden builds on and add the `Firmware` method."""
    for tool in ("gcc", "gnulink", "as", "ar", "compilation_db"):
        env.Tool(tool)
    # Cross toolchains live wherever the user installed them: use the caller's PATH
    # rather than SCons's fixed default.
    env["ENV"]["PATH"] = os.environ.get("PATH", env["ENV"].get("PATH", ""))
    env.SetDefault(
        FWH_ARGS={},
        FWH_LIBS=[],
        # Outputs go to a temporary name and are renamed when complete, so an interrupted
        # build never leaves an ELF, .bin or .hex that looks finished.
        FWH_LINKCOM=("$LINK -o ${TARGET}.tmp $LINKFLAGS $SOURCES $FWH_LIBS "
                     "&& mv -f ${TARGET}.tmp $TARGET"),
        FWH_LINKCOMSTR="",
        FWH_OBJCOPYCOM=("$FWH_OBJCOPY -O $FWH_OBJCOPY_FORMAT $SOURCE ${TARGET}.tmp "
                        "&& mv -f ${TARGET}.tmp $TARGET"),
        FWH_OBJCOPYCOMSTR="",
        COMPILATIONDB_USE_ABSPATH=True,
    )
    # A firmware build is many small compiles: use every CPU unless -j was given.
    if GetOption("num_jobs") == 1:
        SetOption("num_jobs", os.cpu_count() or 1)
    # Without an explicit CacheDir, SCons creates its DefaultEnvironment lazily from the
    # build threads under -j, which races (AttributeError from random SCons.Tool modules).
    # No cache unless the SConstruct calls env.CacheDir(path) itself.
    env.CacheDir(None)
    # Content signatures, not timestamps: with 'content-timestamp' a file rebuilt within
    # the same second as its last build (the ELF relinked at another -O level) was taken
    # as unchanged and its report was not remade.
    env.Decider("content")
    env.SetOption("implicit_cache", 1)
    env.AddMethod(firmware, "Firmware")


def exists(env) -> bool:
    """The tool itself is pure Python; toolchains are checked when a board is chosen."""
    return True
