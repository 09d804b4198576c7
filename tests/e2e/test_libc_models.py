"""Issue 12 item 2: printf from main() on newlib-nano and picolibc gets a finite thread
stack bound, built with the real compiler and the real C libraries.

The cycle the newlib model bounds is checked to exist with objdump (an oracle independent
of fwharden's decoder): __sfp calls __sinit.part.0 (or __sinit) and that calls __sfp.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from conftest import REPO, copy_project, scons

SOURCE = REPO / "tests" / "firmware" / "libc_printf"
VARIANTS = [("newlib-nano", "2"), ("newlib-nano", "s"), ("newlib-nano", "0"),
            ("picolibc", "2"), ("picolibc", "s")]


@pytest.fixture(scope="module", params=VARIANTS, ids=["-O".join(v) for v in VARIANTS])
def built(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    libc, opt = request.param
    project = copy_project(SOURCE, tmp_path_factory.mktemp("libc") / "fw")
    toml = project / "firmware.toml"
    text = toml.read_text().replace('libc = "newlib-nano"', f'libc = "{libc}"')
    toml.write_text(text)
    scons(project, "board=mps2-an500", f"opt={opt}")
    out = project / "build" / "mps2-an500"
    return libc, json.loads((out / "verify.json").read_text()), out / "firmware.elf"


def _calls(elf: Path) -> dict[str, set[str]]:
    """caller -> callees of every `bl`, from arm-none-eabi-objdump."""
    listing = subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)], check=True,
                             capture_output=True, text=True).stdout
    calls: dict[str, set[str]] = {}
    current = ""
    for line in listing.splitlines():
        head = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if head:
            current = head.group(1)
            continue
        call = re.search(r"\tbl\t[0-9a-f]+ <([^>+]+)>", line)
        if call and current:
            calls.setdefault(current, set()).add(call.group(1))
    return calls


def test_printf_from_main_has_a_finite_thread_bound(built) -> None:
    libc, data, elf = built
    thread = data["thread_stack"]
    assert thread["kind"] in ("exact", "at_least"), thread
    assert thread["worst_case"] > 200     # printf's chain is hundreds of bytes deep
    assert thread["margin"] is not None and thread["margin"] > 0
    assert not [f for f in data["findings"] if f["rule"] == "recursion"]
    assert "printf" in " ".join(_calls(elf).get("main", set()))  # (i)printf really called


def test_newlib_cycle_exists_and_the_model_says_it_bounded_it(built) -> None:
    libc, data, elf = built
    notes = [f for f in data["findings"] if f["rule"] == "library-model"]
    if libc != "newlib-nano":
        assert not notes, "picolibc's printf has no recursion to model"
        return
    calls = _calls(elf)
    sinit = next(n for n in calls if n.startswith("__sinit"))
    assert any(c.startswith("__sinit") for c in calls["__sfp"]) and "__sfp" in calls[sinit]
    (note,) = notes
    assert note["severity"] == "note" and "newlib" in note["message"]
    assert "__sfp" in note["message"]
