"""CI artifacts: manifest (validated against its shipped JSON Schema), reproducible builds,
dist/, the HTML report in headless Chromium, and `fwharden size`."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import zlib
from pathlib import Path

import jsonschema
import pytest
from conftest import EXAMPLE, FIRMWARE, REPO, built_copy, copy_project, fwharden, scons

from fwharden.harden.report.manifest import manifest_schema

REPRODUCED = ("firmware.elf", "firmware.bin", "firmware.hex", "manifest.json")


@pytest.mark.parametrize(("board", "toolchain"), [("stm32h743", "gcc"), ("mps2-an500", "clang"),
                                                  ("sifive-e", "gcc")])
def test_manifest_is_valid_and_complete(tmp_path: Path, board: str, toolchain: str) -> None:
    elf = built_copy(EXAMPLE, tmp_path / "demo", board, f"toolchain={toolchain}")
    manifest = json.loads((elf.parent / "manifest.json").read_text())
    jsonschema.validate(manifest, manifest_schema())
    assert manifest["board"]["name"] == board and manifest["toolchain"]["kind"] == toolchain
    artifacts = {a["path"]: a for a in manifest["artifacts"]}
    for name in ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.map", "report.html",
                 "findings.sarif", "verify.json"):
        assert artifacts[name]["sha256"] == hashlib.sha256((elf.parent / name).read_bytes()).hexdigest()
        assert artifacts[name]["size"] == (elf.parent / name).stat().st_size
    sources = {s["path"] for s in manifest["sources"]}
    assert {"src/main.c", "fwharden-runtime/common/stackmap.c"} <= sources
    assert not any(p.startswith("/") for p in sources)
    assert manifest["verdict"] == "pass" and manifest["findings"]["by_rule"] == {}
    assert {s["name"] for s in manifest["stacks"]} == {"isr", "thread"}
    assert manifest["isr_stack"]["worst_case"] > 0


def test_schema_rejects_a_broken_manifest(tmp_path: Path) -> None:
    elf = built_copy(EXAMPLE, tmp_path / "demo", "mps2-an386")
    manifest = json.loads((elf.parent / "manifest.json").read_text())
    manifest["artifacts"][0]["sha256"] = "not-a-hash"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(manifest, manifest_schema())


@pytest.mark.parametrize(("board", "toolchain"), [("stm32h743", "gcc"), ("mps2-an386", "clang"),
                                                  ("fe310", "gcc"), ("sifive-e", "clang")])
def test_two_clean_builds_in_different_directories_are_identical(
        tmp_path: Path, board: str, toolchain: str) -> None:
    first = built_copy(EXAMPLE, tmp_path / "one" / "demo", board, f"toolchain={toolchain}")
    second = built_copy(EXAMPLE, tmp_path / "two" / "deeper" / "copy", board,
                        f"toolchain={toolchain}")
    for name in REPRODUCED:
        a, b = (first.parent / name).read_bytes(), (second.parent / name).read_bytes()
        assert a == b, f"{name} differs between the two build directories"


def test_dist_collects_the_artifacts(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "demo")
    scons(project, "board=mps2-an500", "dist")
    dist = project / "dist" / "irq-demo-mps2-an500"
    names = {p.name for p in dist.iterdir()}
    assert {"firmware.elf", "firmware.bin", "firmware.hex", "firmware.map", "manifest.json",
            "findings.sarif", "report.html", "verify.json"} <= names
    assert not any(n.startswith(".") or n.endswith(".tmp") for n in names)
    manifest = json.loads((dist / "manifest.json").read_text())
    for artifact in manifest["artifacts"]:
        assert hashlib.sha256((dist / artifact["path"]).read_bytes()).hexdigest() == artifact["sha256"]


def _png_is_not_blank(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct colours in the image rows), read with zlib only."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    chunks, pos = b"", 8
    while pos < len(data):
        length = int.from_bytes(data[pos:pos + 4], "big")
        if data[pos + 4:pos + 8] == b"IDAT":
            chunks += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    raw = zlib.decompress(chunks)
    return width, height, len(set(raw[i:i + 3] for i in range(1, min(len(raw), 4_000_000), 97)))


def test_html_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    assert shutil.which("chromium"), "chromium is missing: ./bootstrap installs it"
    project = copy_project(FIRMWARE / "verify", tmp_path / "fw")
    scons(project, "board=mps2-an500")
    report = project / "build" / "mps2-an500" / "report.html"
    html = report.read_text()
    assert "<script" not in html and "http://" not in html.replace(
        "http://www.w3.org/2000/svg", "")
    assert "memory map" in html and "TIMER0_IRQHandler" in html and "src/scenarios.c:" in html
    shot = REPO / "build" / "report-screenshot.png"
    shot.parent.mkdir(exist_ok=True)
    result = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", "--window-size=1200,1400", f"--screenshot={shot}", report.as_uri()],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
    width, height, colours = _png_is_not_blank(shot)
    print(f"screenshot: {shot} ({width}x{height})")
    assert (width, height) == (1200, 1400) and colours > 5


def test_size_command(tmp_path: Path) -> None:
    elf = built_copy(EXAMPLE, tmp_path / "demo", "stm32h743")
    text = fwharden("size", str(elf))
    assert text.returncode == 0 and "dtcm" in text.stdout and "axi_sram" in text.stdout
    rows = {r["region"]: r for r in json.loads(fwharden("size", str(elf), "--json").stdout)}
    assert rows["flash"]["used"] > 0 and rows["dtcm"]["used"] >= 12 * 1024  # the stack block
    missing = fwharden("size", str(tmp_path / "nowhere.elf"))
    assert missing.returncode == 2 and "pass --board" in missing.stderr
