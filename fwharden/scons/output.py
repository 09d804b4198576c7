"""What a build prints: one short line per step (`[ 3/14] CC src/main.c`), as PlatformIO
and ninja do, or the full command lines with `VERBOSE=1` (the Make/Kbuild convention).

The short lines are ordinary `$*COMSTR` construction variables, so a SConstruct can set its
own; `$_FWH_STEP` and `$_FWH_SOURCE`/`$_FWH_TARGET` are the callables they use.
"""

from __future__ import annotations

import itertools
import os
import re
import sys
import threading

from fwharden.runtime import include_dir
from fwharden.scons.cmdline import Word

# How fwharden's runtime sources are named in debug info and in the short output.
RUNTIME_PREFIX = "fwharden-runtime"

# Short forms: the step's name, then the file it is about.
SHORT_COMSTR = {
    "CCCOMSTR": "$_FWH_STEP CC $_FWH_SOURCE",
    "ASCOMSTR": "$_FWH_STEP AS $_FWH_SOURCE",
    "ASPPCOMSTR": "$_FWH_STEP AS $_FWH_SOURCE",
    "LINKCOMSTR": "$_FWH_STEP LD $_FWH_TARGET",
    "FWH_LINKCOMSTR": "$_FWH_STEP LD $_FWH_TARGET",
    "FWH_LDSCRIPTCOMSTR": "$_FWH_STEP GEN $_FWH_TARGET",
    "FWH_VECTORSCOMSTR": "$_FWH_STEP GEN $_FWH_TARGET",
    "FWH_TEXTFILECOMSTR": "$_FWH_STEP GEN $_FWH_TARGET",
    "FWH_TINYGOCOMSTR": "$_FWH_STEP TINYGO $_FWH_TARGET",
    "FWH_VERIFYCOMSTR": "$_FWH_STEP VERIFY $_FWH_SOURCE",
    "FWH_STACKMAPCOMSTR": "$_FWH_STEP STACKMAP $_FWH_TARGET",
    "FWH_OBJCOPYCOMSTR": "$_FWH_STEP OBJCOPY $_FWH_TARGET",
    "FWH_USAGECOMSTR": "$_FWH_STEP SIZE $_FWH_SOURCE",
    "FWH_REPORTCOMSTR": "$_FWH_STEP REPORT $_FWH_TARGET",
    "FWH_MANIFESTCOMSTR": "$_FWH_STEP MANIFEST $_FWH_TARGET",
    "FWH_COMPILEDBCOMSTR": "$_FWH_STEP CDB $_FWH_TARGET",
    "FWH_DISTCOMSTR": "DIST ${TARGET.dir}",
    "FWH_RUNCOMSTR": "RUN $_FWH_SOURCE",
}


class StepCounter:
    """`$_FWH_STEP`: `[ n/N]`, n counting the steps this run has printed (in the order their
    lines appear, also under -j), N the steps the build declares (so a no-op or partial
    rebuild stops short of N). SCons substitutes a COMSTR in the job's thread and prints it
    later: a number taken at substitution let two jobs print `[9/24]` before `[8/24]`. So the
    substitution leaves `#` in place of n and `print_line` (the default
    PRINT_CMD_LINE_FUNC) numbers and writes the line under one lock."""

    def __init__(self) -> None:
        self.total = 0
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self, target, source, env, for_signature) -> str:
        if for_signature:
            return ""
        width = len(str(self.total))
        return f"[{'#':>{width}}/{self.total}]"

    def print_line(self, text: str, target, source, env) -> None:
        """Number the step line `text` and print it, as one step under the lock."""
        with self._lock:
            match = _PENDING_STEP.match(text)
            if match:
                n = next(self._count)
                text = f"[{n:>{len(match.group(1))}}/{match.group(2)}]" + text[match.end():]
            sys.stdout.write(text + "\n")


_PENDING_STEP = re.compile(r"\[( *#)/(\d+)\]")


def display_name(node, top: str) -> str:
    """A file as the short output names it: relative to the SConstruct's directory, the
    runtime's as `fwharden-runtime/...`, anything else absolute."""
    path = str(node.abspath)
    runtime = str(include_dir())
    if path.startswith(runtime + os.sep):
        return RUNTIME_PREFIX + path[len(runtime):]
    rel = os.path.relpath(path, top)
    return path if rel.startswith("..") else rel


def show_source(target, source, env, for_signature) -> Word:
    """`$_FWH_SOURCE`: the first source's short name (a Word: a `$` in a file name is a
    character, not a variable)."""
    return Word(display_name(source[0], env.Dir("#").abspath) if source else "")


def show_target(target, source, env, for_signature) -> Word:
    """`$_FWH_TARGET`: the first target's short name."""
    return Word(display_name(target[0], env.Dir("#").abspath) if target else "")


def use_short_output(env) -> None:
    """Short lines, unless the SConstruct set its own COMSTR (SetDefault keeps those)."""
    env.SetDefault(**SHORT_COMSTR)
