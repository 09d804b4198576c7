"""Write a file so that a reader never sees it half-written: temporary file, then rename.

Must not replace what is not ours: the rename goes onto the file a symlink points at (never
over the link), and a path that names a directory, a device, a FIFO or a socket is refused,
because renaming over it would swap a machine's `/dev/stdout` link or device node for a
regular file when run as root. The new file gets the mode `open(..., 0o666)` gives under
the process umask (0644 under umask 022), as any tool that writes a file would.
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path


class OutputError(Exception):
    """An output path cannot be written: one line naming the path and what to do."""


def output_target(path: Path) -> Path:
    """The regular file a write to `path` lands in (symlinks followed); OutputError when
    the path is a directory, a device, a FIFO or a socket."""
    target = Path(os.path.realpath(path))
    try:
        mode = os.stat(target).st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror})") from None
    if stat.S_ISDIR(mode):
        raise OutputError(f"{path}: is a directory; fix: give a file name")
    if not stat.S_ISREG(mode):
        kind = ("a FIFO" if stat.S_ISFIFO(mode) else "a device" if stat.S_ISCHR(mode)
                or stat.S_ISBLK(mode) else "a socket" if stat.S_ISSOCK(mode) else "special")
        raise OutputError(f"{path}: is {kind}, not a regular file, and is not replaced; fix: "
                          "give a file name, or - for standard output")
    return target


def write_atomically(path: Path, data: str | bytes, executable: bool = False,
                     check: Callable[[Path], None] | None = None) -> None:
    """Write `data` to a temporary file beside the target of `path`, then rename it there.

    `executable` asks for mode 0777 before the umask (a linked ELF), `check` reads the
    finished temporary file back before it gets its name. OutputError (one line) when the
    path is not a regular file or cannot be written."""
    target = output_target(path)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    tmp = target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        # O_EXCL: never open something another process put at the temporary name.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0),
                     0o777 if executable else 0o666)
    except OSError as exc:
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
        if check is not None:
            check(tmp)
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise OutputError(f"{path}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
