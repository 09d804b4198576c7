"""`fwharden diff OLD NEW` on two real builds of the bundled example that differ: the
second adds an interrupt handler with a 300-byte table, a 40-byte local buffer and a call
to malloc (a stand-in with the C library's name)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import EXAMPLE, copy_project, fwharden, scons

BOARD = "mps2-an500"
ADDED = """#include <stddef.h>
static volatile size_t sink;
static volatile char table[300] = {1};
__attribute__((noinline)) void *malloc(size_t size)
{
    sink += size;
    return (void *)&sink;
}
void IRQ4_Handler(void)
{
    volatile char buf[40];
    buf[0] = table[sink];
    sink += (size_t)malloc(sink) + buf[0];
}
"""


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("diff")
    project = copy_project(EXAMPLE, base / "demo")
    scons(project, f"board={BOARD}")
    old = shutil.copytree(project / "build" / BOARD, base / "old")
    (project / "src" / "added_isr.c").write_text(ADDED)
    scons(project, f"board={BOARD}", check=False)  # verify rejects it: the manifest says FAIL
    return old, project / "build" / BOARD


def test_json_has_region_stack_handler_and_finding_deltas(builds) -> None:
    old, new = builds
    result = fwharden("diff", str(old), str(new), "--json", "-")
    assert result.returncode == 0, result.stderr
    diff = json.loads(result.stdout)
    before = {r["region"]: r["used"] for r in json.loads((old / "manifest.json").read_text())
              ["memory"]}
    after = {r["region"]: r["used"] for r in json.loads((new / "manifest.json").read_text())
             ["memory"]}
    rows = {r["region"]: r for r in diff["regions"]}
    assert set(rows) == set(before)
    for name, row in rows.items():
        assert (row["old"], row["new"], row["delta"]) == \
            (before[name], after[name], after[name] - before[name])
    # The 300-byte initialised table is stored in flash and lives in RAM: both grow by it.
    assert sum(r["delta"] > 300 for r in rows.values()) >= 2
    handlers = {h["name"]: h for h in diff["handlers"]}
    assert handlers["IRQ4_Handler"]["old"] is None
    assert handlers["IRQ4_Handler"]["new"]["bytes"] >= 40  # its buffer is on its stack
    isr = next(s for s in diff["stacks"] if s["name"] == "isr")
    assert isr["worst_case_delta"] == isr["new"]["worst_case"] - isr["old"]["worst_case"]
    assert isr["margin_delta"] == -isr["worst_case_delta"]
    added = [(f["rule"], f["root"]) for f in diff["findings"]["added"]]
    assert added == [("heap", "IRQ4_Handler")] and diff["findings"]["removed"] == []
    assert (diff["old"]["verdict"], diff["new"]["verdict"]) == ("pass", "fail")


def test_reverse_diff_removes_the_finding(builds) -> None:
    old, new = builds
    diff = json.loads(fwharden("diff", str(new / "manifest.json"), str(old), "--json",
                               "-").stdout)
    assert [f["rule"] for f in diff["findings"]["removed"]] == ["heap"]
    assert all(r["delta"] <= 0 for r in diff["regions"])


def test_text_and_markdown(builds) -> None:
    old, new = builds
    text = fwharden("diff", str(old), str(new))
    assert text.returncode == 0
    assert "IRQ4_Handler" in text.stdout and "1 added, 0 removed" in text.stdout
    markdown = fwharden("diff", str(old), str(new), "--markdown").stdout
    assert "| region | old | new | delta | % |" in markdown
    assert "PASS → FAIL" in markdown and "IRQ4_Handler reaches malloc" in markdown


def test_fail_on_growth(builds) -> None:
    old, new = builds
    over = fwharden("diff", str(old), str(new), "--fail-on-growth", "100")
    assert over.returncode == 1 and "over the limit 100 B" in over.stderr
    assert fwharden("diff", str(old), str(new), "--fail-on-growth", "100000").returncode == 0
    assert fwharden("diff", str(old), str(new), "--fail-on-growth", "psram=0").returncode == 0
    isr = fwharden("diff", str(old), str(new), "--fail-on-growth", "isr=0%")
    assert isr.returncode == 1 and isr.stderr.startswith("fwharden: error: isr: grew by")
    same = fwharden("diff", str(old), str(old), "--fail-on-growth", "0")
    assert same.returncode == 0, same.stderr


@pytest.mark.parametrize("args", [("--fail-on-growth", "lots"), ("--fail-on-growth", "rom=1"),
                                  ("--json", ".")])
def test_bad_input_is_one_line(builds, args) -> None:
    old, new = builds
    result = fwharden("diff", str(old), str(new), *args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr


def test_missing_build_is_one_line(tmp_path: Path, builds) -> None:
    result = fwharden("diff", str(tmp_path / "nowhere"), str(builds[1]))
    assert result.returncode == 2 and "nowhere: no such file" in result.stderr
