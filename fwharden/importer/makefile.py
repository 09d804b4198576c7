"""Read a GNU Makefile the way make would, for the variables a firmware build is made of.

Handles what STM32CubeMX and hand-written firmware Makefiles use: `=` (recursive), `:=`
and `::=` (simple), `+=`, `?=`, line continuations, `#` comments, `$(VAR)` / `${VAR}`
references (and substitution references `$(VAR:a=b)`), `ifeq`/`ifneq`/`ifdef`/`ifndef`
with `else`/`endif` when both sides can be expanded, and `include` of files that exist.
Anything it cannot evaluate (a conditional on an unknown value, a function such as
`$(shell ...)`) is kept as a warning naming the file and line, never silently guessed.
Rules and recipes are skipped: SCons builds from the variables.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fwharden.inputs import CONFIG_LIMIT, InputError, printable, read_bounded

_ASSIGN = re.compile(r"^(override\s+)?(export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*"
                     r"(::=|:=|\+=|\?=|=)\s*(.*)$")
_CONDITIONAL = re.compile(r"^(ifeq|ifneq|ifdef|ifndef)\b\s*(.*)$")
_FUNCTIONS = ("shell", "wildcard", "foreach", "call", "eval", "patsubst", "subst", "filter",
              "filter-out", "sort", "dir", "notdir", "addprefix", "addsuffix", "basename",
              "suffix", "join", "word", "words", "firstword", "lastword", "strip", "if", "or",
              "and", "origin", "value", "info", "warning", "error", "abspath", "realpath")


# Limits on evaluation, far above what a real firmware Makefile needs, so that hostile or
# broken input (A = $(A), a chain of variables that each double the one before, a file
# that includes itself) ends in an Unknown value with a warning instead of a hang.
MAX_DEPTH = 40              # nested references in one expansion
MAX_STEPS = 100_000         # references expanded for one value
MAX_VALUE = 1 << 20         # characters in one expanded value
MAX_FILES = 200             # Makefiles read, includes counted
MAX_INCLUDE_DEPTH = 10
MAX_WARNINGS = 200


class Unknown(Exception):
    """A value make would compute but we cannot (a function, an automatic variable, a
    value past the evaluation limits)."""


@dataclass
class Makefile:
    """Variables after reading the file, and what could not be evaluated."""

    path: Path
    raw: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (value, simple)
    warnings: list[str] = field(default_factory=list)
    where: dict[str, str] = field(default_factory=dict)  # name -> "file:line" of its value
    # Given on the command line (`import-makefile Makefile OPT=-Os`): the file's assignments
    # leave them alone unless written with `override` (GNU make manual 6.7).
    command_line: frozenset[str] = frozenset()
    files_read: int = 0
    # `vpath PATTERN DIRS` directives in the order read: (pattern, unexpanded dirs, file:line).
    # Hand-written Makefiles list bare file names and let make find them this way.
    vpaths: list[tuple[str, str, str]] = field(default_factory=list)
    _steps: int = 0
    _seen_warnings: set[str] = field(default_factory=set, repr=False)
    _dropped_warnings: int = 0

    def warn(self, message: str) -> None:
        """Keep `message` once; past MAX_WARNINGS only count (a 100k-line file of
        unknowns must not make the report itself the problem)."""
        if message in self._seen_warnings:
            return
        self._seen_warnings.add(message)
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(message)
        else:
            self._dropped_warnings += 1

    def finish(self) -> None:
        if self._dropped_warnings:
            self.warnings.append(f"... and {self._dropped_warnings} more warnings")
            self._dropped_warnings = 0

    def _location(self, name: str) -> str:
        return self.where.get(name, self.path.name)

    def defined(self, name: str) -> bool:
        return name in self.raw

    def value(self, name: str) -> str:
        """The expanded value of `name` ('' when undefined, as in make). A value that cannot
        be evaluated is '' with a warning naming the file and line of the assignment."""
        if name not in self.raw:
            return ""
        text, simple = self.raw[name]
        if simple:
            return text
        try:
            return self.expand(text)
        except Unknown as exc:
            self.warn(f"{self._location(name)}: {name}: cannot evaluate ({exc}); "
                      "treated as unknown (empty)")
            return ""

    def words(self, name: str, _open: tuple[str, ...] = ()) -> list[str]:
        """The value of `name` split into words; a word that cannot be evaluated (it uses
        an automatic variable or a function, or refers to itself) is dropped with a warning."""
        if name not in self.raw:
            return []
        text, simple = self.raw[name]
        if simple:
            return text.split()
        out: list[str] = []
        for token in _tokens(text):
            try:
                out.extend(self._expand_words(token, (*_open, name)))
            except Unknown as exc:
                self.warn(f"{self._location(name)}: {name}: dropped "
                          f"'{printable(token, 60)}' ({exc})")
            if sum(len(w) for w in out) > MAX_VALUE:
                self.warn(f"{self._location(name)}: {name}: value longer than {MAX_VALUE} "
                          "characters; cut")
                break
        return out

    def _expand_words(self, token: str, open_names: tuple[str, ...]) -> list[str]:
        match = re.fullmatch(r"\$[({]([A-Za-z_][A-Za-z0-9_.\-]*)[)}]", token)
        if match and match.group(1) in self.raw and not self.raw[match.group(1)][1]:
            if match.group(1) in open_names or len(open_names) > MAX_DEPTH:
                raise Unknown(f"recursive variable reference $({match.group(1)})")
            return self.words(match.group(1), open_names)  # a nested list, word by word
        return self.expand(token).split()

    def expand(self, text: str, depth: int = 0) -> str:
        """`text` with its references expanded; Unknown past the limits above."""
        if depth == 0:
            self._steps = 0
        if depth > MAX_DEPTH:
            raise Unknown("recursive variable reference")
        out = []
        i = size = 0
        while i < len(text):
            char = text[i]
            if char != "$":
                out.append(char)
                i += 1
                continue
            if i + 1 >= len(text):
                out.append(char)
                break
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
            elif nxt in "({":
                close = ")" if nxt == "(" else "}"
                end = _matching(text, i + 1, nxt, close)
                inner = text[i + 2:end]
                self._steps += 1
                if self._steps > MAX_STEPS:
                    raise Unknown(f"expansion takes more than {MAX_STEPS} steps")
                piece = self._reference(inner, depth)
                size += len(piece)
                if size > MAX_VALUE:
                    raise Unknown(f"value longer than {MAX_VALUE} characters")
                out.append(piece)
                i = end + 1
            else:
                raise Unknown(f"automatic variable ${nxt}")
        return "".join(out)

    def _reference(self, inner: str, depth: int) -> str:
        head = inner.split(None, 1)[0] if inner.strip() else ""
        if head in _FUNCTIONS and (" " in inner or "\t" in inner):
            raise Unknown(f"$({head} ...)")
        if inner in ("@", "<", "^", "+", "*", "?") or inner.startswith(("@", "<", "^")):
            raise Unknown(f"automatic variable $({inner})")
        name = self.expand(inner, depth + 1)
        if ":" in name and "=" in name:
            # Substitution reference $(VAR:a=b): replace the suffix a by b in each word.
            var, rule = name.split(":", 1)
            old, new = rule.split("=", 1)
            value, simple = self.raw.get(var, ("", True))
            words = (value if simple else self.expand(value, depth + 1)).split()
            if "%" in old:
                prefix, suffix = old.split("%", 1)
                new_prefix, new_suffix = new.split("%", 1) if "%" in new else ("", new)
                return " ".join(new_prefix + w[len(prefix):len(w) - len(suffix)] + new_suffix
                                if w.startswith(prefix) and w.endswith(suffix) else w
                                for w in words)
            return " ".join(w[:-len(old)] + new if old and w.endswith(old) else w for w in words)
        if name not in self.raw:
            return ""
        text, simple = self.raw[name]
        return text if simple else self.expand(text, depth + 1)


def _tokens(text: str) -> list[str]:
    """Whitespace-separated words, keeping $(...) references with spaces in one word."""
    out, current, level = [], [], 0
    for char in text:
        if char in "({":
            level += 1
        elif char in ")}":
            level = max(level - 1, 0)
        if char.isspace() and level == 0:
            if current:
                out.append("".join(current))
                current = []
            continue
        current.append(char)
    if current:
        out.append("".join(current))
    return out


def _matching(text: str, start: int, open_char: str, close_char: str) -> int:
    level = 0
    for index in range(start, len(text)):
        if text[index] == open_char:
            level += 1
        elif text[index] == close_char:
            level -= 1
            if level == 0:
                return index
    raise Unknown("unbalanced parenthesis")


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with continuations joined and comments removed, with their first line number."""
    out: list[tuple[int, str]] = []
    pending, first = "", 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not pending:
            first = number
        if line.startswith("\t") and not pending:
            out.append((number, "\t"))  # a recipe line: skipped, kept as a marker
            continue
        stripped = _strip_comment(line)
        if stripped.endswith("\\"):
            pending += stripped[:-1].rstrip() + " "
            continue
        pending += stripped
        out.append((first, pending.strip()))
        pending = ""
    if pending:
        out.append((first, pending.strip()))
    return out


def _strip_comment(line: str) -> str:
    if "#" not in line:
        return line.rstrip()
    result = []
    escaped = False
    for char in line:
        if char == "#" and not escaped:
            break
        escaped = char == "\\" and not escaped
        result.append(char)
    return "".join(result).rstrip()


class MakefileError(Exception):
    """The Makefile itself cannot be read (missing, not a regular file, too large)."""


def read_makefile(path: Path, variables: dict[str, str] | None = None) -> Makefile:
    """Evaluate the assignments of `path` (and the files it includes).

    MakefileError when `path` cannot be read; everything inside it that cannot be
    evaluated is a warning with file:line."""
    makefile = Makefile(path=path, command_line=frozenset(variables or {}))
    for name, value in (variables or {}).items():
        makefile.raw[name] = (value, True)
        makefile.where[name] = "command line"
    try:
        text = read_bounded(path, CONFIG_LIMIT).decode("utf-8", "replace")
    except InputError as exc:
        raise MakefileError(f"{path}: {exc}") from None
    _read_into(makefile, path, text, (path.resolve(),))
    makefile.finish()
    return makefile


class _Conditionals:
    """The open ifeq/ifdef blocks. `inactive` counts the blocks not taking their branch,
    so `active` is O(1): 100k nested ifeq took minutes when it walked the whole stack."""

    def __init__(self) -> None:
        self.stack: list[tuple[bool, bool]] = []  # (taking this branch, a branch taken)
        self.inactive = 0

    def push(self, taking: bool, done: bool) -> None:
        self.stack.append((taking, done))
        self.inactive += not taking

    def pop(self) -> tuple[bool, bool]:
        taking, done = self.stack.pop()
        self.inactive -= not taking
        return taking, done

    def active(self) -> bool:
        return self.inactive == 0


def _read_into(makefile: Makefile, path: Path, text: str, including: tuple[Path, ...]) -> None:
    makefile.files_read += 1
    conditionals = _Conditionals()
    active = conditionals.active

    def evaluate(kind: str, argument: str, where: str, line: str) -> bool:
        outcome = _condition(makefile, kind, argument)
        if outcome is None:
            makefile.warn(f"{where}: cannot evaluate '{printable(line, 60)}'; assumed false")
            return False
        return outcome

    for number, line in _logical_lines(text):
        where = f"{path.name}:{number}"
        if line == "\t" or not line:
            continue
        match = _CONDITIONAL.match(line)
        if match:
            if not active():
                conditionals.push(False, True)
            else:
                outcome = evaluate(match.group(1), match.group(2), where, line)
                conditionals.push(outcome, outcome)
            continue
        if line == "else" or line.startswith("else "):
            if not conditionals.stack:
                continue
            _taking, done = conditionals.pop()
            parent = active()
            inner = _CONDITIONAL.match(line[4:].strip())
            if not parent or done:
                conditionals.push(False, True)
            elif inner:
                outcome = evaluate(inner.group(1), inner.group(2), where, line)
                conditionals.push(outcome, outcome)
            else:
                conditionals.push(True, True)
            continue
        if line.startswith("endif"):
            if conditionals.stack:
                conditionals.pop()
            continue
        if not active():
            continue
        if line.startswith(("include ", "-include ", "sinclude ")):
            _include(makefile, path, line, where, including)
            continue
        if line == "vpath" or line.startswith(("vpath ", "vpath\t")):
            _vpath(makefile, " ".join(line[5:].split()), where)
            continue
        match = _ASSIGN.match(line)
        if match and not (match.group(4) == "=" and line.split("=", 1)[0].rstrip().endswith(":")):
            name, operator, value = match.group(3), match.group(4), match.group(5)
            if name not in makefile.command_line or match.group(1):
                _assign(makefile, name, operator, value.strip(), where)
            continue
        # A rule (target: prerequisites) or a directive we do not need.


def _vpath(makefile: Makefile, argument: str, where: str) -> None:
    """`vpath PATTERN DIRS` adds a search path, `vpath PATTERN` clears that pattern's,
    `vpath` alone clears all (GNU make manual 4.4.2). The directories are expanded only when
    a source is not found as written: CubeMX's `vpath %.c $(sort $(dir $(C_SOURCES)))` uses
    functions this reader does not evaluate, and its sources never need it."""
    pattern, _, directories = argument.partition(" ")
    if not pattern:
        makefile.vpaths.clear()
    elif not directories.strip():
        makefile.vpaths[:] = [v for v in makefile.vpaths if v[0] != pattern]
    else:
        makefile.vpaths.append((pattern, directories.strip(), where))


def search_directories(makefile: Makefile, name: str) -> list[str]:
    """The directories make would search for a prerequisite `name` not found as written:
    each matching `vpath` pattern's, in order, then `VPATH` (GNU make manual 4.4)."""
    found: list[str] = []
    for pattern, directories, where in makefile.vpaths:
        if not _pattern_matches(pattern, name):
            continue
        try:
            words = makefile.expand(directories).split()
        except Unknown as exc:
            makefile.warn(f"{where}: vpath {printable(pattern)}: cannot evaluate ({exc}); "
                          "not searched")
            continue
        found += [d for word in words for d in word.split(":") if d]
    found += [d for word in makefile.words("VPATH") for d in word.split(":") if d]
    return list(dict.fromkeys(found))


def _pattern_matches(pattern: str, name: str) -> bool:
    """make's `%` pattern: one `%` matches any run of characters; without one, equality."""
    prefix, percent, suffix = pattern.partition("%")
    if not percent:
        return pattern == name
    return len(name) >= len(prefix) + len(suffix) and name.startswith(prefix) \
        and name.endswith(suffix)


def _assign(makefile: Makefile, name: str, operator: str, value: str, where: str) -> None:
    if operator != "+=" or name not in makefile.where:
        makefile.where[name] = where
    try:
        if operator in (":=", "::="):
            makefile.raw[name] = (makefile.expand(value), True)
        elif operator == "?=":
            if name not in makefile.raw:
                makefile.raw[name] = (value, False)
        elif operator == "+=":
            old, simple = makefile.raw.get(name, ("", False))
            addition = makefile.expand(value) if simple else value
            makefile.raw[name] = ((old + " " + addition).strip(), simple)
        else:
            makefile.raw[name] = (value, False)
    except Unknown as exc:
        makefile.warn(f"{where}: {name}: cannot evaluate ({exc}); value kept as text")
        makefile.raw[name] = (value, True)


def _include(makefile: Makefile, path: Path, line: str, where: str,
             including: tuple[Path, ...]) -> None:
    optional = line.startswith(("-", "s"))
    try:
        names = makefile.expand(line.split(None, 1)[1]).split()
    except Unknown as exc:
        if not optional:
            makefile.warn(f"{where}: include: cannot evaluate {exc}; skipped")
        return
    for name in names:
        target = path.parent / name
        shown = printable(name, 60)
        if not target.is_file():
            if not optional:
                makefile.warn(f"{where}: include {shown}: no such file; skipped")
            continue
        resolved = target.resolve()
        if resolved in including:
            makefile.warn(f"{where}: include {shown}: includes itself; skipped")
        elif len(including) > MAX_INCLUDE_DEPTH or makefile.files_read >= MAX_FILES:
            makefile.warn(f"{where}: include {shown}: more than {MAX_INCLUDE_DEPTH} levels "
                          f"or {MAX_FILES} files; skipped")
        else:
            try:
                text = read_bounded(target, CONFIG_LIMIT).decode("utf-8", "replace")
            except InputError as exc:
                makefile.warn(f"{where}: include {shown}: {exc}; skipped")
                continue
            _read_into(makefile, target, text, (*including, resolved))


def _condition(makefile: Makefile, kind: str, argument: str) -> bool | None:
    try:
        if kind in ("ifdef", "ifndef"):
            name = makefile.expand(argument.strip())
            defined = bool(makefile.value(name).strip()) if makefile.defined(name) else False
            return defined if kind == "ifdef" else not defined
        left, right = _condition_args(argument)
        equal = makefile.expand(left).strip() == makefile.expand(right).strip()
        return equal if kind == "ifeq" else not equal
    except (Unknown, ValueError):
        return None


def _condition_args(argument: str) -> tuple[str, str]:
    argument = argument.strip()
    if argument.startswith("(") and argument.endswith(")"):
        inner = argument[1:-1]
        depth = 0
        for index, char in enumerate(inner):
            if char == "(":
                depth += 1
            elif char == ")":
                depth -= 1
            elif char == "," and depth == 0:
                return inner[:index], inner[index + 1:]
        raise ValueError("no comma")
    parts = re.findall(r"\"([^\"]*)\"|'([^']*)'", argument)
    if len(parts) == 2:
        return parts[0][0] or parts[0][1], parts[1][0] or parts[1][1]
    raise ValueError("unrecognised condition")
