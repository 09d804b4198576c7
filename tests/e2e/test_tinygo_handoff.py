"""Issue 17 item 2, Go side: fwharden's TinyGo hand-off package (fwharden/runtime/go/handoff)
built by the real TinyGo and run in QEMU; the Go source's formatting without TinyGo.

tests/firmware/tinygo/handoff imports "fwharden/handoff" (the build's generated go.work
puts the package beside the project). A fast interrupt pushes N sequence-numbered items
into a Ring while main pops them; a second interrupt pushes into its own Ring and sets a
Flag. micro:bit (nRF51, Cortex-M0: no LDREX/STREX): TIMER1 at about 20 kHz, TIMER2 at a
higher NVIC priority nesting in it. fe310: TinyGo's runtime owns the CLINT timer and QEMU
models no PWM timer, so the fast interrupt is UART1's receive interrupt, fed from here
through a socket as fast as QEMU's UART takes bytes, and the second is GPIO0's rising
edge. Checked from what the firmware prints: nothing lost beyond the counted refusals,
nothing duplicated or reordered, the flag seen and clear at the end; verify finds nothing
in the handlers; objdump shows the barrier in them and no exclusive or AMO instruction.
"""

from __future__ import annotations

import json
import queue
import re
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
from conftest import FIRMWARE, copy_project, scons
from elftools.elf.elffile import ELFFile

from fwharden.toolchain.tinygo import HANDOFF_DIR

TINYGO = shutil.which("tinygo")
real_tinygo = pytest.mark.skipif(TINYGO is None, reason="no tinygo on PATH (CI): the Go "
                                 "package's format is checked below, the C primitives by "
                                 "test_handoff.py")
SOURCE = FIRMWARE / "tinygo" / "handoff"
N = 20000
# The handlers the user code is inlined into (TinyGo -Oz): the nRF51 vectors; on the
# FE310 TinyGo's trap dispatch, which calls the PLIC handlers.
HANDLERS = {"microbit": ("TIMER1_IRQHandler", "TIMER2_IRQHandler"),
            "fe310": ("handleInterrupt",)}


def _rows(output: str) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    rows = {name: {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}
            for name, line in re.findall(r"handoff: (fast|slow) (.*)", output)}
    last = next(line for line in output.splitlines() if line.startswith("handoff: flags"))
    return rows, {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", last)}


def _run_microbit(elf: Path) -> str:
    return _until_done(["qemu-system-arm", "-M", "microbit", "-nographic", "-monitor", "none",
                        "-serial", "stdio", "-kernel", str(elf)])


def _until_done(command: list[str], feed=None) -> str:
    """Run QEMU until the firmware prints its last line (TinyGo's main does not exit
    QEMU) or 90 s pass, then stop it."""
    qemu = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        for line in qemu.stdout:
            lines.put(line)
        lines.put(None)
    threading.Thread(target=pump, daemon=True).start()
    seen = []
    try:
        if feed is not None:
            feed()
        deadline = time.monotonic() + 90
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            seen.append(line)
            if line.startswith("handoff: flags"):
                break
    finally:
        qemu.kill()
        qemu.wait()
    return "".join(seen)


def _run_fe310(elf: Path, tmp_path: Path) -> str:
    path = tmp_path / "uart1.sock"
    command = ["qemu-system-riscv32", "-M", "sifive_e,revb=on", "-nographic", "-monitor",
               "none", "-serial", "stdio", "-chardev",
               f"socket,id=u1,path={path},server=on,wait=on", "-serial", "chardev:u1",
               "-kernel", str(elf)]

    def feed() -> None:
        # QEMU waits for this connection before it starts the guest; the socket's
        # back-pressure (QEMU takes a byte only when UART1's FIFO has room) paces it.
        client = socket.socket(socket.AF_UNIX)
        deadline = time.monotonic() + 60
        while True:
            try:
                client.connect(str(path))
                break
            except OSError:
                assert time.monotonic() < deadline, "QEMU never opened the UART1 socket"
                time.sleep(0.05)
        client.sendall(bytes(i % 256 for i in range(N)))
        clients.append(client)   # kept open: QEMU drops what is unread at a hang-up
    clients: list[socket.socket] = []
    try:
        return _until_done(command, feed)
    finally:
        for client in clients:
            client.close()


@real_tinygo
@pytest.mark.parametrize("board", ["microbit", "fe310"])
def test_go_handoff_loses_and_duplicates_nothing(board: str, tmp_path: Path) -> None:
    project = copy_project(SOURCE, tmp_path / "handoff")
    scons(project, f"board={board}")
    out = project / "build" / board
    assert f'use "{HANDOFF_DIR}"' in (out / "go.work").read_text()
    elf = out / "firmware.elf"
    output = _run_microbit(elf) if board == "microbit" else _run_fe310(elf, tmp_path)
    print(board, output)
    rows, tail = _rows(output)
    fast, slow = rows["fast"], rows["slow"]
    assert fast["sent"] == N
    for row in (fast, slow):
        assert row["bad"] == 0                              # no duplicate, no reordering
        assert row["got"] + row["refused"] == row["sent"]   # none lost beyond refusals
        assert row["got"] > 0
    assert fast["refused"] > 0, "the stalls never filled the ring: refusals untested"
    assert slow["sent"] > 0 and tail["flags"] > 0 and tail["again"] == 0
    if board == "microbit":
        assert tail["nested"] > 0, "the second interrupt never preempted the first"
    # verify: nothing in the handlers the primitives are inlined into.
    report = json.loads((out / "verify.json").read_text())
    bad = [f for f in report["findings"] if f["severity"] in ("error", "warning")
           and set(HANDLERS[board]) & {f["root"], *f["path"]}]
    assert bad == []
    # objdump: the barrier in each handler and in main (Pop), no LDREX/STREX/AMO/LR/SC and
    # no interrupt masking in them (lock-free).
    arm = board == "microbit"
    dump = subprocess.run(["arm-none-eabi-objdump" if arm else "riscv64-unknown-elf-objdump",
                           "-d", str(elf)], capture_output=True, text=True, check=True).stdout
    insns = [(int(a, 16), text) for a, text in re.findall(r"^\s*([0-9a-f]+):\s+(.*)$", dump, re.M)]
    with open(elf, "rb") as handle:
        funcs = {s.name: (s["st_value"] & ~1, s["st_size"]) for s in
                 ELFFile(handle).get_section_by_name(".symtab").iter_symbols()
                 if s["st_info"]["type"] == "STT_FUNC" and s["st_size"]}

    def body(name: str) -> str:   # by the symbol's range: objdump splits at local labels
        low, size = funcs[name]
        return "\n".join(t for a, t in insns if low <= a < low + size)
    report_at = f"{funcs['main.report'][0]:x} <main.report>"
    # main is inlined into TinyGo's goroutine wrapper: the function that calls main.report.
    thread = [n for n in funcs if n != "main.report" and report_at in body(n)]
    assert len(thread) == 1, thread
    barrier = r"\bdmb\b" if arm else r"\bfence\s+rw,\s*rw"
    for name in (*HANDLERS[board], *thread):
        text = body(name)
        assert re.search(barrier, text), (name, text)
        assert not re.search(r"\b(ldrex|strex|cpsid|amo\w*|lr\.w|sc\.w|csrc\w*\s+mstatus)\b",
                             text), (name, text)


def _gofmt() -> str | None:
    found = shutil.which("gofmt")
    if found:
        return found
    candidates = sorted(Path("/usr/lib").glob("go*/bin/gofmt"))
    return str(candidates[-1]) if candidates else None


@pytest.mark.skipif(_gofmt() is None, reason="no gofmt (Debian golang-go) installed")
def test_go_package_is_gofmt_clean() -> None:
    result = subprocess.run([_gofmt(), "-l", "-e", str(HANDOFF_DIR), str(SOURCE)],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0 and result.stdout == "", result.stdout + result.stderr
