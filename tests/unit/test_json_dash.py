"""`--json -` means standard output for every command (issue 15 item 4)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from fwharden.cli import _JSON_TAKES_VALUE, build_parser

EXE = Path(sys.executable).parent / "fwharden"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=60)


def test_json_dash_is_the_same_as_json() -> None:
    for args in (("boards",), ("board", "show", "mps2-an500"),
                 ("toolchains", "--board", "mps2-an500")):
        plain, dash = _run(*args, "--json"), _run(*args, "--json", "-")
        assert dash.returncode == plain.returncode == 0, dash.stderr
        assert dash.stdout == plain.stdout and dash.stdout.startswith(("[", "{"))


def test_every_json_option_takes_dash() -> None:
    """Each command with --json accepts `--json -`: a switch (then the dash is dropped) or
    an option with a value (verify, diff: - is standard output)."""
    parser = build_parser()
    commands = [a for a in parser._actions if a.dest == "command"][0].choices
    for name, sub in commands.items():
        json_opts = [a for a in sub._actions if "--json" in a.option_strings]
        if not json_opts:
            continue
        if json_opts[0].nargs == 0:
            assert name not in _JSON_TAKES_VALUE or name == "decode-fault"
        else:
            assert name in _JSON_TAKES_VALUE, name
