"""Stack frame sizes from GCC/clang `-fstack-usage` files (.su).

A line reads `file.c:LINE:COL:function<TAB>bytes<TAB>qualifier` (clang omits COL).
"static" is an exact size; "dynamic,bounded" is an upper bound; "dynamic" (alloca, VLAs)
is only a minimum. A name defined in two files (two static functions) is ambiguous and
left to the disassembly; so is any name the ELF does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fwharden.harden.errors import HardenError
from fwharden.inputs import STACK_USAGE_LIMIT, InputError, read_bounded


@dataclass(frozen=True)
class FrameSize:
    """A function's own stack use and whether it is a bound or only a minimum."""

    bytes: int
    exact: bool
    source: str          # ".su" or "disassembly"


def parse_su(text: str) -> list[tuple[str, FrameSize]]:
    """(function, frame) pairs from the text of one .su file; bad lines are skipped."""
    out = []
    for line in text.splitlines():
        parts = line.split("\t")
        if len(parts) != 3 or not parts[1].strip().isdigit():
            continue
        location, size, qualifier = parts
        name = location.rsplit(":", 1)[-1].strip()
        if not name:
            continue
        exact = qualifier.strip() in ("static", "dynamic,bounded")
        out.append((name, FrameSize(int(size), exact, ".su")))
    return out


def load_stack_usage(paths: list[Path]) -> dict[str, FrameSize]:
    """Frames by function name from several .su files; names seen twice are dropped."""
    frames: dict[str, FrameSize] = {}
    ambiguous: set[str] = set()
    for path in sorted(set(paths)):
        try:
            text = read_bounded(path, STACK_USAGE_LIMIT).decode("utf-8", "replace")
        except InputError as exc:
            if str(exc) == "file not found":
                continue  # listed by the build for a source that writes none (assembly)
            raise HardenError(f"{path}: {exc}") from None
        for name, frame in parse_su(text):
            if name in frames and frames[name] != frame:
                ambiguous.add(name)
            frames[name] = frame
    for name in ambiguous:
        del frames[name]
    return frames
