"""Reading TOML files and the value types shared by profiles and firmware.toml.

Kept apart from the loaders so both use the same size syntax and the same schema walker,
and so a TOML syntax error becomes a `ConfigError` naming the file and line.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

from fwharden.inputs import CONFIG_LIMIT, InputError, one_line, read_bounded

from .errors import ConfigError

_SIZE = re.compile(r"^\s*(0x[0-9a-fA-F]+|\d+)\s*([KkMmGg])?(i?B)?\s*$")
_SCALE = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

ErrorFactory = Callable[[Path, str, str, str], ConfigError]


# Deeper than any real profile or project (they nest three levels); deeper input is refused
# before tomllib parses it, whose recursive descent ends in RecursionError near 1,000.
MAX_NESTING = 64


def read_toml(path: Path, error: ErrorFactory) -> dict[str, Any]:
    """Parse `path`; a missing file, a non-UTF-8 byte, a syntax error or nesting beyond
    MAX_NESTING becomes `error(...)` naming the file (and line)."""
    try:
        raw = read_bounded(path, CONFIG_LIMIT)
    except InputError as exc:
        fix = "check the path" if str(exc) == "file not found" else "give a TOML file"
        raise error(path, "", str(exc), fix) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(path, "", f"line {line}: byte 0x{raw[exc.start]:02x} is not UTF-8 "
                    "(TOML files are UTF-8)", "save the file as UTF-8") from None
    depth_line = _too_deep(text)
    if depth_line:
        raise error(path, "", f"line {depth_line}: arrays or inline tables nest deeper than "
                    f"{MAX_NESTING} levels", "flatten the value") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(path, "", f"not valid TOML ({one_line(str(exc))})",
                    "correct the TOML syntax") from None
    except RecursionError:  # belt and braces: _too_deep counts brackets outside strings
        raise error(path, "", "values nest too deeply", "flatten the value") from None


def _too_deep(text: str) -> int:
    """The line where `[`/`{` nesting inside a value first passes MAX_NESTING, else 0.
    Brackets inside strings and comments are counted too: that can only over-count, and
    no real file has 64 of them open on one value."""
    depth, line = 0, 1
    for char in text:
        if char in "[{":
            depth += 1
            if depth > MAX_NESTING:
                return line
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "\n":
            line += 1
            if depth <= 2:  # a table header such as [[a]] closes on its own line
                depth = 0
    return 0


def parse_size(value: object) -> int | None:
    """An int, or a string such as "2M", "512K", "0x400", "64KiB"; None if neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            return int(match.group(1), 0) * _SCALE[(match.group(2) or "").lower()]
    return None


class Size:
    """Schema marker: a byte count or address given as an int or a size string."""


class Table:
    """Schema marker: a table whose own keys are free (names), each value of `value` type."""

    def __init__(self, value: object) -> None:
        self.value = value


def check_schema(
    data: Mapping[str, Any],
    schema: Mapping[str, Any],
    path: Path,
    error: ErrorFactory,
    prefix: str = "",
) -> None:
    """Reject unknown keys and wrong types. `schema` maps key -> type, dict, Size or Table."""
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in schema:
            known = ", ".join(sorted(schema))
            raise error(path, dotted, "unknown key", f"remove it or use one of: {known}")
        _check_value(value, schema[key], dotted, path, error)


def _check_value(value: Any, kind: Any, dotted: str, path: Path, error: ErrorFactory) -> None:
    if isinstance(kind, dict):
        if not isinstance(value, dict):
            raise error(path, dotted, "must be a table", f"write it as [{dotted}]")
        check_schema(value, kind, path, error, dotted + ".")
    elif isinstance(kind, Table):
        if not isinstance(value, dict):
            raise error(path, dotted, "must be a table", f"write it as [{dotted}]")
        for name, item in value.items():
            _check_value(item, kind.value, f"{dotted}.{name}", path, error)
    elif kind is Size:
        if parse_size(value) is None:
            raise error(path, dotted, f"{value!r} is not a size or address",
                        "write an integer (0x08000000) or a size such as \"512K\" or \"2M\"")
        if parse_size(value) < 0:
            raise error(path, dotted, f"{value} is negative",
                        "give a size or address of 0 or more")
    elif isinstance(kind, list):
        if not isinstance(value, list) or not all(isinstance(v, kind[0]) for v in value):
            raise error(path, dotted, f"must be a list of {kind[0].__name__}",
                        f"write {dotted} = [ ... ]")
    elif (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise error(path, dotted, f"must be {kind.__name__}, not {type(value).__name__}",
                    f"give {dotted} a {kind.__name__} value")


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; any other value in `override` replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
