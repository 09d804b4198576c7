"""SIGKILL during a real build (issue 20, item 6): afterwards manifest.json is either
absent or describes exactly the files beside it (their sizes and SHA-256)."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from conftest import EXAMPLE, copy_project, scons

BOARD = "mps2-an386"
# Spread over a whole rebuild (compile, link, verify, patch, objcopy, report, manifest:
# 3-6 s here), so kills land in every step.
DELAYS = [0.4 + 0.35 * i for i in range(16)]


def _consistent(build: Path) -> bool | None:
    """None without a manifest; else whether every listed artifact matches it."""
    manifest = build / "manifest.json"
    if not manifest.exists():
        return None
    data = json.loads(manifest.read_text())
    for artifact in data["artifacts"]:
        path = build / artifact["path"]
        if not path.is_file() or path.stat().st_size != artifact["size"] or \
                hashlib.sha256(path.read_bytes()).hexdigest() != artifact["sha256"]:
            return False
    return True


def test_sigkill_never_leaves_a_stale_manifest(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "demo")
    scons(project, f"board={BOARD}")
    build = project / "build" / BOARD
    assert _consistent(build) is True
    main_c = project / "src" / "main.c"
    original = main_c.read_text()
    outcomes = []
    for round_, delay in enumerate(DELAYS):
        # A change that reaches the code, so link, verify and every artifact are redone.
        main_c.write_text(original + f"\nvolatile int fwh_kill_round = {round_ + 1};\n")
        process = subprocess.Popen([sys.executable, "-m", "SCons", "-Q", f"board={BOARD}"],
                                   cwd=project, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        state = _consistent(build)
        assert state is not False, f"stale manifest after a kill at {delay:.2f} s"
        outcomes.append(state)
    # Some kills must have removed the manifest and some come too late to matter, or the
    # delays did not cover the build.
    assert None in outcomes, outcomes
    scons(project, f"board={BOARD}")
    assert _consistent(build) is True
    # Artifacts get the umask's mode (were 0600 whatever the umask).
    umask = os.umask(0)
    os.umask(umask)
    assert (build / "manifest.json").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (build / "verify.json").stat().st_mode & 0o777 == 0o666 & ~umask
    assert (build / "firmware.elf").stat().st_mode & 0o777 == 0o777 & ~umask
