"""The HTML report and `fwharden size --symbols` (issue 15 item 6), checked against
binutils (arm-none-eabi-nm -S, objdump -h) on real builds, plus headless-Chromium
screenshots at 1280 px of a passing and a failing build (build/report-pass.png,
build/report-fail.png) for a person to look at."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLE, FIRMWARE, REPO, copy_project, fwharden, scons
from test_artifacts import _png_is_not_blank

from fwharden.harden.report.html import COLORS

FAILING_ISR = """#include <stddef.h>
static volatile size_t sink;
__attribute__((noinline)) void *malloc(size_t size)
{
    sink += size;
    return (void *)&sink;
}
void IRQ4_Handler(void)
{
    sink += (size_t)malloc(sink);
}
"""


def _nm_sizes(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-nm", "-S", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    sizes = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2].lower() in "tdbr":
            sizes[parts[3]] = int(parts[1], 16)
    return sizes


def _sections(elf: Path) -> list[str]:
    out = subprocess.run(["arm-none-eabi-objdump", "-h", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    return [m[1] for m in re.finditer(r"^\s+\d+\s+(\S+)\s+([0-9a-f]+)", out, re.M)
            if int(m[2], 16) and "ALLOC" in out.split(m[0], 1)[1].split("\n", 2)[1]]


@pytest.fixture(scope="module")
def passing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("pass") / "demo")
    scons(project, "board=stm32h743")
    return project / "build" / "stm32h743"


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = copy_project(EXAMPLE, tmp_path_factory.mktemp("fail") / "demo")
    (project / "src" / "bad_isr.c").write_text(FAILING_ISR)
    assert scons(project, "board=mps2-an500", check=False).returncode != 0
    return project / "build" / "mps2-an500"


def test_size_symbols_match_nm(passing: Path) -> None:
    result = fwharden("size", str(passing / "firmware.elf"), "--symbols", "--top", "5",
                      "--json")
    assert result.returncode == 0, result.stderr
    regions = {r["region"]: r for r in json.loads(result.stdout)}
    nm = _nm_sizes(passing / "firmware.elf")
    flash = regions["flash"]["symbols"]
    assert len(flash) == 5
    assert [s["size"] for s in flash] == sorted((s["size"] for s in flash), reverse=True)
    for region in regions.values():
        for symbol in region["symbols"]:
            assert nm[symbol["name"]] == symbol["size"], symbol
    in_flash = [(size, name) for name, size in nm.items()
                if any(s["name"] == name for s in flash)]
    assert max(in_flash)[0] == flash[0]["size"]
    text = fwharden("size", str(passing / "firmware.elf"), "--symbols").stdout
    assert "largest symbols" in text and "main" in text and "not in a sized symbol" in text


def test_report_tables_legend_and_colours(passing: Path, failing: Path) -> None:
    assert COLORS["heap"] != COLORS["bss"]
    for out, verdict in ((passing, "PASS"), (failing, "FAIL")):
        html = (out / "report.html").read_text()
        assert f">{verdict}<" in html
        assert "<div class=legend>" in html and all(f"</i>{k}</span>" in html for k in COLORS)
        assert "thread stack</b>: worst case" in html
        elf = out / ("firmware.elf" if verdict == "PASS" else "firmware.rejected.elf")
        for name in _sections(elf):  # every allocated section is in a table, not a tooltip
            assert f"{name}</td>" in html, name
        nm = _nm_sizes(elf)
        assert f"<td>{nm['main']} B</td><td>function</td><td>main</td>" in html
    assert "IRQ4_Handler reaches malloc" in (failing / "report.html").read_text()


def test_unbounded_worst_case_is_not_a_number_with_a_contradiction(tmp_path: Path) -> None:
    project = copy_project(FIRMWARE / "verify", tmp_path / "fw")
    scons(project, "board=mps2-an500")
    html = (project / "build" / "mps2-an500" / "report.html").read_text()
    assert "interrupt stack</b>: worst case unbounded" in html
    assert not re.search(r"\d+ B \(unbounded\)", html)


@pytest.mark.parametrize("which", ["passing", "failing"])
def test_screenshot_at_1280(request: pytest.FixtureRequest, tmp_path: Path, which: str) -> None:
    assert shutil.which("chromium"), "chromium is missing: ./bootstrap installs it"
    out: Path = request.getfixturevalue(which)
    shot = REPO / "build" / f"report-{which[:4]}.png"
    shot.parent.mkdir(exist_ok=True)
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1280,2200",
         f"--screenshot={shot}", (out / "report.html").as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    width, height, colours = _png_is_not_blank(shot)
    assert (width, height) == (1280, 2200) and colours > 5
