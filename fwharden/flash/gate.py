"""The verify gate: a firmware reaches a board only if the build proved it.

The build writes `manifest.json` beside `firmware.elf` (its sha256 and verify's verdict);
a build with fwharden's linker also writes `verify.json`. A firmware is flashed only when
the manifest lists this very file (same sha256: not rebuilt or edited since) with the
verdict "pass", or, without a manifest, when `verify.json` beside it says "pass" and is
not older than the ELF. Anything else is refused before any probe is touched.
"""

from __future__ import annotations

import json
from pathlib import Path

from fwharden.inputs import file_sha256

from .errors import FlashError


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise FlashError(f"{path}: unreadable ({exc}); fix: rebuild with scons") from None
    if not isinstance(data, dict):
        raise FlashError(f"{path}: not a fwharden report; fix: rebuild with scons")
    return data


def check_verified(elf: Path, board: str | None = None) -> str:
    """Raise FlashError unless `elf` passed `fwharden verify`; say what proved it."""
    if not elf.is_file():
        raise FlashError(f"{elf}: no such firmware; fix: build it first (scons board=...)")
    manifest = elf.parent / "manifest.json"
    verify = elf.parent / "verify.json"
    if manifest.is_file():
        data = _read_json(manifest)
        entry = next((a for a in data.get("artifacts", []) if a.get("path") == elf.name), None)
        if entry is None:
            raise FlashError(f"{elf}: {manifest} does not list {elf.name}; fix: flash the "
                             "firmware.elf the build wrote, or rebuild")
        if entry.get("sha256") != file_sha256(elf):
            raise FlashError(f"{elf}: changed since {manifest} was written (sha256 differs), "
                             "so verify's verdict is not about this file; fix: rebuild with scons")
        built_for = data.get("board", {}).get("name")
        if board is not None and built_for not in (None, board):
            raise FlashError(f"{elf}: built for board {built_for}, not {board}; fix: pass "
                             f"--board {built_for} or rebuild with board={board}")
        verdict, source = data.get("verdict"), manifest
    elif verify.is_file():
        if verify.stat().st_mtime < elf.stat().st_mtime:
            raise FlashError(f"{elf}: {verify} is older than the firmware; fix: rebuild, or "
                             f"run fwharden verify {elf} --json {verify}")
        verdict, source = _read_json(verify).get("verdict"), verify
    else:
        raise FlashError(f"{elf}: no manifest.json or verify.json beside it, so nothing proves "
                         f"it safe to flash; fix: build with scons, or run fwharden verify {elf} "
                         f"--json {verify}")
    if verdict != "pass":
        raise FlashError(f"{elf}: verify's verdict is {verdict!r} ({source}); a firmware that "
                         "failed verify is never flashed; fix: correct the findings in "
                         f"{elf.parent / 'verify.txt'} and rebuild")
    return f"verify passed ({source.name})"
