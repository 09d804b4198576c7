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

from .errors import ConfigError

_SIZE = re.compile(r"^\s*(0x[0-9a-fA-F]+|\d+)\s*([KkMmGg])?(i?B)?\s*$")
_SCALE = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}

ErrorFactory = Callable[[Path, str, str, str], ConfigError]


def read_toml(path: Path, error: ErrorFactory) -> dict[str, Any]:
    """Parse `path`; a missing file or a syntax error becomes `error(...)`."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(path, "", "file not found", "check the path") from None
    except OSError as exc:
        raise error(path, "", f"cannot read ({exc.strerror})", "check permissions") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise error(path, "", f"not valid TOML ({exc})", "correct the TOML syntax") from None


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
