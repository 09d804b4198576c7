"""Inputs (issue 20, item 3): regular files only, read with a bound; never a hang on a
FIFO or a read until memory runs out on /dev/zero."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from fwharden.cli import main
from fwharden.harden.analysis.frames import load_stack_usage
from fwharden.harden.elf.image import load_image
from fwharden.harden.errors import HardenError
from fwharden.inputs import InputError, one_line, printable, read_bounded


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "in"
    os.mkfifo(fifo)  # no writer: open() without O_NONBLOCK would wait forever
    with pytest.raises(InputError, match="is a FIFO"):
        read_bounded(fifo, 100)


def test_device_is_refused() -> None:
    with pytest.raises(InputError, match="is a device"):
        read_bounded(Path("/dev/zero"), 100)


def test_size_bound(tmp_path: Path) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"x" * 101)
    assert read_bounded(path, 101) == b"x" * 101
    with pytest.raises(InputError, match="101 bytes, more than the 100"):
        read_bounded(path, 100)


def test_fifo_as_elf(tmp_path: Path) -> None:
    fifo = tmp_path / "fw.elf"
    os.mkfifo(fifo)
    with pytest.raises(HardenError, match=r"fw\.elf: cannot open: is a FIFO"):
        load_image(fifo)


def test_fifo_named_su_is_an_error_not_a_hang(tmp_path: Path) -> None:
    fifo = tmp_path / "main.su"
    os.mkfifo(fifo)
    with pytest.raises(HardenError, match=r"main\.su: is a FIFO"):
        load_stack_usage([fifo])
    # A listed .su that the build did not write (an assembly source) is no error.
    assert load_stack_usage([tmp_path / "start.su"]) == {}


def test_dev_zero_as_fault_log(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["decode-fault", "--elf", str(tmp_path / "x.elf"), "/dev/zero"]) == 2
    assert capsys.readouterr().err == ("fwharden: error: /dev/zero: is a device, not a "
                                       "regular file\n")


def test_fifo_as_fault_log(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "log"
    os.mkfifo(fifo)
    assert main(["decode-fault", "--elf", "x.elf", "--record", str(fifo)]) == 2
    assert "is a FIFO" in capsys.readouterr().err


def test_errors_are_one_line() -> None:
    assert one_line("a\nb\x1b[31m") == "a\\nb\\x1b[31m"
    assert printable(b"\xff\n" + b"x" * 100, limit=10) == "\\xff\\nxxxx..."
