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

_ASSIGN = re.compile(r"^(override\s+)?(export\s+)?([A-Za-z_][A-Za-z0-9_.\-]*)\s*"
                     r"(::=|:=|\+=|\?=|=)\s*(.*)$")
_CONDITIONAL = re.compile(r"^(ifeq|ifneq|ifdef|ifndef)\b\s*(.*)$")
_FUNCTIONS = ("shell", "wildcard", "foreach", "call", "eval", "patsubst", "subst", "filter",
              "filter-out", "sort", "dir", "notdir", "addprefix", "addsuffix", "basename",
              "suffix", "join", "word", "words", "firstword", "lastword", "strip", "if", "or",
              "and", "origin", "value", "info", "warning", "error", "abspath", "realpath")


class Unknown(Exception):
    """A value make would compute but we cannot (a function, an automatic variable)."""


@dataclass
class Makefile:
    """Variables after reading the file, and what could not be evaluated."""

    path: Path
    raw: dict[str, tuple[str, bool]] = field(default_factory=dict)  # name -> (value, simple)
    warnings: list[str] = field(default_factory=list)

    def defined(self, name: str) -> bool:
        return name in self.raw

    def value(self, name: str) -> str:
        """The expanded value of `name` ('' when undefined, as in make)."""
        if name not in self.raw:
            return ""
        text, simple = self.raw[name]
        return text if simple else self.expand(text)

    def words(self, name: str) -> list[str]:
        """The value of `name` split into words; a word that cannot be evaluated (it uses
        an automatic variable or a function) is dropped with a warning."""
        if name not in self.raw:
            return []
        text, simple = self.raw[name]
        if simple:
            return text.split()
        out: list[str] = []
        for token in _tokens(text):
            try:
                out.extend(self._expand_words(token))
            except Unknown as exc:
                message = f"{self.path.name}: {name}: dropped '{token}' ({exc})"
                if message not in self.warnings:
                    self.warnings.append(message)
        return out

    def _expand_words(self, token: str) -> list[str]:
        match = re.fullmatch(r"\$[({]([A-Za-z_][A-Za-z0-9_.\-]*)[)}]", token)
        if match and match.group(1) in self.raw and not self.raw[match.group(1)][1]:
            return self.words(match.group(1))  # a nested list variable, word by word
        return self.expand(token).split()

    def expand(self, text: str, depth: int = 0) -> str:
        if depth > 40:
            raise Unknown("recursive variable reference")
        out = []
        i = 0
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
                out.append(self._reference(inner, depth))
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
            words = self.value(var).split()
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
    result = []
    escaped = False
    for char in line:
        if char == "#" and not escaped:
            break
        escaped = char == "\\" and not escaped
        result.append(char)
    return "".join(result).rstrip()


def read_makefile(path: Path, variables: dict[str, str] | None = None) -> Makefile:
    """Evaluate the assignments of `path` (and the files it includes)."""
    makefile = Makefile(path=path)
    for name, value in (variables or {}).items():
        makefile.raw[name] = (value, True)
    _read_into(makefile, path, 0)
    return makefile


def _read_into(makefile: Makefile, path: Path, depth: int) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    # Each open conditional: (taking the current branch, some branch already taken)
    stack: list[tuple[bool, bool]] = []

    def active() -> bool:
        return all(taking for taking, _ in stack)

    def evaluate(kind: str, argument: str, where: str, line: str) -> bool:
        outcome = _condition(makefile, kind, argument)
        if outcome is None:
            makefile.warnings.append(f"{where}: cannot evaluate '{line}'; assumed false")
            return False
        return outcome

    for number, line in _logical_lines(text):
        where = f"{path.name}:{number}"
        if line == "\t" or not line:
            continue
        match = _CONDITIONAL.match(line)
        if match:
            if not active():
                stack.append((False, True))
            else:
                outcome = evaluate(match.group(1), match.group(2), where, line)
                stack.append((outcome, outcome))
            continue
        if line == "else" or line.startswith("else "):
            if not stack:
                continue
            _taking, done = stack.pop()
            parent = active()
            inner = _CONDITIONAL.match(line[4:].strip())
            if not parent or done:
                stack.append((False, True))
            elif inner:
                outcome = evaluate(inner.group(1), inner.group(2), where, line)
                stack.append((outcome, outcome))
            else:
                stack.append((True, True))
            continue
        if line.startswith("endif"):
            if stack:
                stack.pop()
            continue
        if not active():
            continue
        if line.startswith(("include ", "-include ", "sinclude ")):
            _include(makefile, path, line, where, depth)
            continue
        match = _ASSIGN.match(line)
        if match and not (match.group(4) == "=" and line.split("=", 1)[0].rstrip().endswith(":")):
            name, operator, value = match.group(3), match.group(4), match.group(5)
            _assign(makefile, name, operator, value.strip(), where)
            continue
        # A rule (target: prerequisites) or a directive we do not need.


def _assign(makefile: Makefile, name: str, operator: str, value: str, where: str) -> None:
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
        makefile.warnings.append(f"{where}: {name}: cannot evaluate {exc}; value kept as text")
        makefile.raw[name] = (value, True)


def _include(makefile: Makefile, path: Path, line: str, where: str, depth: int) -> None:
    optional = line.startswith(("-", "s"))
    try:
        names = makefile.expand(line.split(None, 1)[1]).split()
    except Unknown as exc:
        if not optional:
            makefile.warnings.append(f"{where}: include: cannot evaluate {exc}; skipped")
        return
    for name in names:
        target = (path.parent / name)
        if target.is_file() and depth < 10:
            _read_into(makefile, target, depth + 1)
        elif not optional:
            makefile.warnings.append(f"{where}: include {name}: no such file; skipped")


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
