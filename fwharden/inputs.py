"""Opening and reading input files with a bound: regular files only, never more than a limit.

A FIFO given as an input would block `open()` (or `read()`) forever and `/dev/zero` would be
read until memory runs out, so every input is opened without blocking, checked to be a
regular file, and read only up to its kind's limit. The limits are far above any real
input of that kind (a Cortex-M or RISC-V firmware with full debug information is a few
tens of MB) and low enough that a wrong file fails at once.

Must not print or name the file in the error: callers turn InputError into their own
one-line error (HardenError, ConfigError) with the path in front.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

MiB = 1 << 20
ELF_LIMIT = 512 * MiB       # firmware ELF, debug information included
TEXT_LIMIT = 64 * MiB       # a console log with a fault line
RECORD_LIMIT = 1 * MiB      # a memory dump holding the fault record
CONFIG_LIMIT = 4 * MiB      # a TOML file, a Makefile (each included file)
STACK_USAGE_LIMIT = 16 * MiB  # one .su file


class InputError(Exception):
    """Why an input cannot be read, without the path (the caller adds it)."""


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def open_regular(path: Path, limit: int) -> BinaryIO:
    """A binary stream on `path`, which must be a regular file of at most `limit` bytes.

    O_NONBLOCK keeps open() of a FIFO from waiting for a writer; it changes nothing for a
    regular file (POSIX open(), O_NONBLOCK)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError("file not found") from None
    except OSError as exc:
        raise InputError(f"cannot open ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputError(f"is {_kind(info.st_mode)}, not a regular file")
        if info.st_size > limit:
            raise InputError(f"is {info.st_size} bytes, more than the {limit} bytes this "
                             "input may have")
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: Path, limit: int) -> bytes:
    """All bytes of the regular file `path`, which must hold at most `limit` bytes."""
    with open_regular(path, limit) as stream:
        try:
            # Read the size fstat gives (+1 to see growth), not `limit + 1`: a read of n
            # bytes allocates n first, so every 200 KB ELF cost a 512 MiB allocation
            # (issue 19: it was verify's peak memory). A file that grew is read on to the
            # limit, as before.
            size = os.fstat(stream.fileno()).st_size
            data = stream.read(min(size, limit) + 1)
            if len(data) > size:
                data += stream.read(limit + 1 - len(data))
        except OSError as exc:
            raise InputError(f"cannot read ({exc.strerror or exc})") from None
    if len(data) > limit:  # the file grew after fstat
        raise InputError(f"is more than the {limit} bytes this input may have")
    return data


def read_stream_bounded(stream: BinaryIO, limit: int) -> bytes:
    """Up to `limit` bytes of a stream such as standard input; InputError beyond that."""
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"is more than the {limit} bytes this input may have")
    return data


def one_line(text: str) -> str:
    """`text` with every control or unprintable character (newline, ESC, a lone surrogate
    from undecodable bytes) written as its escape, so an error stays one line."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def printable(text: str | bytes, limit: int = 80) -> str:
    """A name or value taken from an input file, fit for a one-line error: raw bytes and
    non-ASCII as escapes, control characters escaped, cut to `limit` characters."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "backslashreplace")
    shown = one_line(text.encode("ascii", "backslashreplace").decode("ascii"))
    return shown if len(shown) <= limit else shown[:limit] + "..."


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in 64 KiB blocks: the manifest records it and the flash gate
    compares it, so both must hash the same way."""
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()
