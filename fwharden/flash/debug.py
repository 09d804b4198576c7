"""`scons debug` / `fwharden debug`: start the board's GDB server, run gdb-multiarch with
the generated gdbinit, stop the server when GDB ends.

The server runs in its own session, so Ctrl-C in GDB interrupts the target (GDB's job)
instead of killing the server; this process ignores SIGINT while GDB runs for the same
reason. Readiness is the server's listening socket in /proc/net/tcp: connecting to QEMU's
GDB stub to probe it would let the halted machine run once the probe disconnects.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from fwharden.board_profiles import Profile
from fwharden.runner import qemu_command

from . import commands
from .errors import EXIT_TOOL_FAILED, FlashError
from .gate import check_verified
from .gdbinit import DebugFiles, debug_settings, write_debug_files
from .run import find_program, tool_message

SERVER_START_TIMEOUT = 15.0


def server_command(profile: Profile, elf: Path, port: int) -> list[str]:
    debug = debug_settings(profile)
    if debug.server == "qemu":
        return commands.qemu_gdb_command(qemu_command(profile, elf), port)
    assert profile.flash is not None
    if debug.server == "openocd":
        assert profile.flash.openocd is not None
        openocd = find_program(("openocd",), "apt-get install openocd")[0]
        return commands.openocd_server_command(openocd, profile.flash.openocd, port)
    assert profile.flash.pyocd is not None
    pyocd = find_program(("pyocd",), "pip install pyocd (or ./bootstrap, which does)")
    return commands.pyocd_server_command(pyocd, profile.flash.pyocd, port)


def listening(port: int) -> bool:
    """Some socket listens on TCP `port` (IPv4 or IPv6), from the kernel's tables."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            # local_address is ADDR:PORT in hex; state 0A is LISTEN.
            if len(fields) > 3 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                return True
    return False


def start_server(profile: Profile, elf: Path, port: int, log: Path | None) -> subprocess.Popen:
    """The GDB server, listening on `port`, or a FlashError naming the probe and the
    server's own message."""
    debug = debug_settings(profile)
    if debug.server != "qemu":
        # GDB's `load` writes the board's flash: the same gate as `flash`.
        check_verified(elf, profile.name)
    if listening(port):
        raise FlashError(f"TCP port {port} is already in use (another debug session?); fix: "
                         "stop it, or pass gdb_port= / --port")
    command = server_command(profile, elf, port)
    sink = log.open("w") if log is not None else None
    try:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=sink,
                                   stderr=subprocess.STDOUT if sink else None,
                                   start_new_session=True)
    except OSError as exc:
        raise FlashError(f"{command[0]}: cannot run ({exc.strerror})") from None
    finally:
        if sink is not None:
            sink.close()
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not listening(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(process)
            text = log.read_text(errors="replace") if log is not None and log.is_file() else ""
            probe = profile.flash.probe if profile.flash else profile.name
            raise FlashError(f"{debug.server} did not start a GDB server for {profile.name} "
                             f"through {probe}: \"{tool_message(text)}\"; fix: connect the "
                             "probe and power the board", status=EXIT_TOOL_FAILED)
        time.sleep(0.05)
    return process


def stop_server(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def gdb_command(profile: Profile, files: DebugFiles, elf: Path, gdb_args: Sequence[str]
                ) -> list[str]:
    gdb = find_program((debug_settings(profile).gdb,), "apt-get install gdb-multiarch")[0]
    return [gdb, "-q", "-x", str(files.gdbinit), *gdb_args]


def debug_session(profile: Profile, elf: Path, gdb_args: Sequence[str] = (),
                  port: int | None = None, server_only: bool = False) -> int:
    """Write the debug files, start the server, run GDB; GDB's exit status."""
    port = port or debug_settings(profile).port
    files = write_debug_files(profile, elf, port=port)
    log = None if debug_settings(profile).server == "qemu" else elf.parent / "gdbserver.log"
    server = start_server(profile, elf, port, log)
    try:
        if server_only:
            return server.wait()
        command = gdb_command(profile, files, elf, gdb_args)
        try:
            previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        except ValueError:  # not the main thread (scons -j N): GDB still gets Ctrl-C
            previous = None
        try:
            return subprocess.run(command, check=False).returncode
        finally:
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
    finally:
        stop_server(server)
