"""`generate(env)` / `exists(env)` for the fwharden SCons tool, like SCons's own gcc.py.

`generate` only sets construction variables, Builders, the command-line `Variables` and the
`Firmware` method; the work is done by the plain modules (board_profiles, toolchain, linker,
harden) that `build.py` wires together. It sets no global option, no CacheDir and no
Decider of the whole build: `-j` is the SConstruct's (`fwharden init` writes
`SetOption("num_jobs", ...)`), a CacheDir the SConstruct sets is used as it is.

Construction variables (README.md, "SCons construction variables", has the full table):
  FWH_ARGS            the command-line ARGUMENTS; each known one becomes $FWH_<NAME>
  FWH_<step>COM       the action of a step (a Python function or a command line)
  FWH_<step>COMSTR    its short output line; VERBOSE=1 leaves them empty (full commands)
  FWH_BUILD_DIR       build/<board>, set by Firmware()
"""

from __future__ import annotations

import os

from fwharden.scons import cmdline, output
from fwharden.scons.builders import add_builders
from fwharden.scons.variables import fwharden_variables, is_true

from .build import firmware


def generate(env) -> None:
    """Load the C tools fwharden builds on, its Builders, Variables and `Firmware`."""
    for tool in ("gcc", "gnulink", "as", "ar"):
        env.Tool(tool)
    # Cross toolchains live wherever the user installed them: use the caller's PATH
    # rather than SCons's fixed default.
    env["ENV"]["PATH"] = os.environ.get("PATH", env["ENV"].get("PATH", ""))
    variables = fwharden_variables(env.get("FWH_ARGS") or {})
    variables.Update(env)
    env["FWH_UNKNOWN_ARGS"] = sorted(variables.UnknownVariables())
    # Help() substitutes its text: `$$` keeps the variable names and typed values as they are.
    text = ("fwharden arguments (scons NAME=VALUE ...; targets: the firmware, run, dist;"
            " SCons's own options: scons -H):\n\n" + variables.GenerateHelpText(env))
    env.Help(text.replace("$", "$$"))
    env.SetDefault(
        FWH_ARGS={},
        FWH_LIBS=[],
        _FWH_TMPTARGET=cmdline.temporary_target,
        _FWH_OUT=cmdline.target_word,
        _FWH_IN=cmdline.source_words,
        _FWH_INCFLAGS=cmdline.include_flags,
        _FWH_STEP=(counter := output.StepCounter()),
        # Step lines are numbered as they are printed (output.StepCounter.print_line).
        PRINT_CMD_LINE_FUNC=counter.print_line,
        _FWH_SOURCE=output.show_source,
        _FWH_TARGET=output.show_target,
    )
    # User strings enter as Words (Literals) and Nodes; SCons escapes exactly those with
    # $ESCAPE, and the platform's escape leaves backticks to the shell (cmdline.py).
    env["ESCAPE"] = cmdline.ESCAPE
    # SCons's own command lines, with $TARGET/$SOURCES as Words (cmdline.target_word).
    env.Replace(CCCOM="$CC -o $_FWH_OUT -c $CFLAGS $CCFLAGS $_CCCOMCOM $_FWH_IN",
                ASCOM="$AS $ASFLAGS -o $_FWH_OUT $_FWH_IN",
                ASPPCOM="$CC $ASPPFLAGS $CPPFLAGS $_CPPDEFFLAGS $_CPPINCFLAGS -c -o $_FWH_OUT "
                        "$_FWH_IN")
    add_builders(env)
    if is_true(env["FWH_VERBOSE"]) is not True:
        output.use_short_output(env)
    # Content signatures, not timestamps, for this environment's files: SCons keeps whole
    # seconds of a file's time here, so with 'content-timestamp' an ELF relinked within the
    # second of its last build (another -O level) was taken as unchanged and its report
    # was not remade.
    env.Decider("content")
    env.AddMethod(firmware, "Firmware")


def exists(env) -> bool:
    """The tool itself is pure Python; toolchains are checked when a board is chosen."""
    return True
