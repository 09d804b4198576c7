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


def _sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)  # a hole: no disk space used
    return path


def test_every_input_has_a_size_bound(tmp_path: Path) -> None:
    from fwharden.board_profiles import ConfigError, load_profile
    from fwharden.board_profiles.project import load_project
    from fwharden.importer.project import import_makefile
    from fwharden.inputs import CONFIG_LIMIT, ELF_LIMIT

    with pytest.raises(HardenError, match="more than the"):
        load_image(_sparse(tmp_path / "huge.elf", ELF_LIMIT + 1))
    with pytest.raises(ConfigError, match="more than the"):
        load_profile(str(_sparse(tmp_path / "huge.toml", CONFIG_LIMIT + 1)))
    with pytest.raises(ConfigError, match="more than the"):
        load_project(_sparse(tmp_path / "firmware.toml", CONFIG_LIMIT + 1))
    with pytest.raises(ConfigError, match="more than the"):
        import_makefile(_sparse(tmp_path / "Makefile", CONFIG_LIMIT + 1), "stm32h743")


@pytest.mark.parametrize(("content", "text"), [
    (b'schema_version = 1\n[project]\nname = "\xfe"\n', "line 3: byte 0xfe is not UTF-8"),
    (b"schema_version = 1\nx = " + b"[" * 2000 + b"1" + b"]" * 2000 + b"\n",
     "nest deeper than 64 levels"),
    (b"schema_version = 1\n" + b"".join(b"[a%d]\n" % i for i in range(3)) + b"[" +
     b".".join([b"t"] * 2000) + b"]\n", "unknown key"),
])
def test_project_file_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          content: bytes, text: str) -> None:
    config = tmp_path / "firmware.toml"
    config.write_bytes(content)
    assert main(["verify", str(tmp_path / "x.elf"), "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"{config}: " in err and text in err, err
