"""Command lines from user strings that no shell and no SCons substitution can change.

SCons runs a command line through `sh -c`, and before that it expands `$NAME`, `$(`/`$)`
and `${...}` in every plain string. Its quoting only wraps strings with a space in double
quotes (inside which the shell still runs backticks and `$(...)`), and SCons's own
`escape` for Nodes and `Literal`s leaves backticks alone. So, for every string that comes
from firmware.toml, a board profile or an imported Makefile (flags, defines, include
directories, libraries, source and output paths):

- it enters the environment as a `SCons.Subst.Literal` (or a Node, made without
  substitution by `env.fs`), which SCons neither expands nor splits, and
- `$ESCAPE` is `shlex.quote`, which SCons applies to exactly those, so the shell sees each
  one as a single word in single quotes: `-DGREETING="hello world"` reaches the compiler
  as written, and a backtick is a character, not a command.

Names that are pasted into generated C, a linker script or a path are checked here too,
with one line naming the key.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from pathlib import Path

from SCons.Subst import Literal

from fwharden.board_profiles import ConfigError

ESCAPE = shlex.quote
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_DEFINE_NAME = re.compile(rf"{_IDENT}(\(\s*({_IDENT}(\s*,\s*{_IDENT})*(\s*,\s*\.\.\.)?|\.\.\.)?\s*\))?")
# A board or project name becomes a directory and file name (build/<board>/<board>.ld,
# dist/<name>-<board>/): no separators, no leading dot, nothing a shell or make reads.
_FILE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]*")


class Word(Literal):
    """A Literal whose signature text keeps a `$(` or `$)` in it as characters.

    SCons computes a command's signature as one string and then cuts it at `$(`/`$)`
    (the "leave this out of the signature" markers); a define such as `X="$(date)"` would
    read as an unbalanced marker. Doubled dollars are not markers, and SCons turns `$$`
    back into `$` afterwards, so the signature still holds the word exactly."""

    def for_signature(self) -> str:
        return self.lstr.replace("$", "$$")


def literal(strings: Iterable[str]) -> list[Word]:
    """Each string as one command-line word that SCons passes through untouched."""
    return [Word(str(s)) for s in strings]


def include_flags(paths) -> list[Word]:
    """`$_CPPINCFLAGS` without SCons's `_concat`, which glues `-I` to each directory as a
    plain string (substituted, and quoted only if it holds a space)."""
    return [Word(f"-I{p}") for p in paths]


def target_word(target, source, env, for_signature) -> Word:
    """`$_FWH_OUT`: the target as one Word. `$TARGET` would do for the shell (SCons quotes
    Nodes), but a file name holding `$(` breaks SCons's own signature text."""
    return Word(str(target[0]))


def source_words(target, source, env, for_signature) -> list[Word]:
    """`$_FWH_IN`: the sources, each one Word (see target_word)."""
    return [Word(str(node)) for node in source]


def temporary_target(target, source, env, for_signature) -> Word:
    """`$_FWH_TMPTARGET`: where a command writes before the rename makes the file current."""
    return Word(f"{target[0]}.tmp")


def check_words(path: Path, key: str, values: Iterable[str]) -> None:
    """No control characters in a command-line word: a newline or NUL has no place in a
    flag, and would split the one-line error or the compile database entry."""
    for value in values:
        if any(ord(ch) < 0x20 or ord(ch) == 0x7f for ch in value):
            raise ConfigError(path, key, f"{value!r} holds a control character",
                              "remove it")


def check_defines(path: Path, key: str, defines: Iterable[str]) -> None:
    """`NAME`, `NAME=VALUE` or `NAME(args)=VALUE`: the name must be a C identifier."""
    for define in defines:
        name = define.split("=", 1)[0]
        if not name.isascii() or not _DEFINE_NAME.fullmatch(name):
            raise ConfigError(path, key, f"{define!r}: {name!r} is not a C macro name",
                              "write NAME or NAME=VALUE with NAME a C identifier")


def check_file_name(path: Path, key: str, name: str) -> None:
    """A name that becomes a file or directory name of the build."""
    if not _FILE_NAME.fullmatch(name) or ".." in name:
        raise ConfigError(path, key, f"{name!r} cannot be a file name",
                          "use letters, digits and . _ + - (no / and no leading dot)")
