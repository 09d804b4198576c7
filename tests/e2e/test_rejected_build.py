"""Nothing stale, nothing half-true (issue 15 item 1): after a good build, a build that
verify rejects or that fails to compile leaves no firmware.elf/.bin/.hex that looks
current; the report, verify.* and findings.sarif of the failed build say FAIL; the
manifest lists exactly the files beside it. Real builds of the bundled example."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import jsonschema
from conftest import EXAMPLE, copy_project, scons

from fwharden.harden.report.manifest import manifest_schema

BOARD = "mps2-an500"
FLASHABLE = ("firmware.elf", "firmware.bin", "firmware.hex")
# A handler on a free vector (a weak alias of Default_Handler otherwise) that calls
# malloc (a stand-in with the C library's name, so the link needs no _sbrk): verify's heap
# rule, an error under the default fail_on = "error".
BAD_ISR = """#include <stddef.h>
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


def _manifest_agrees(out: Path) -> dict | None:
    path = out / "manifest.json"
    if not path.exists():
        return None
    manifest = json.loads(path.read_text())
    jsonschema.validate(manifest, manifest_schema())
    for item in manifest["artifacts"]:
        assert hashlib.sha256((out / item["path"]).read_bytes()).hexdigest() == item["sha256"], item["path"]
    return manifest


def test_rejected_build_leaves_no_current_looking_firmware(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "demo")
    out = project / "build" / BOARD
    scons(project, f"board={BOARD}")
    good_bin = (out / "firmware.bin").read_bytes()
    assert _manifest_agrees(out)["verdict"] == "pass"

    (project / "src" / "bad_isr.c").write_text(BAD_ISR)
    result = scons(project, f"board={BOARD}", check=False)
    assert result.returncode != 0
    assert "interrupt-safety check failed" in result.stderr
    for name in FLASHABLE:
        assert not (out / name).exists(), f"{name} left after a rejected build"
        assert (out / name.replace("firmware.", "firmware.rejected.")).is_file()
    assert (out / "firmware.rejected.bin").read_bytes() != good_bin  # this build's, not old
    assert json.loads((out / "verify.json").read_text())["verdict"] == "fail"
    assert "IRQ4_Handler reaches malloc" in (out / "verify.txt").read_text()
    sarif = json.loads((out / "findings.sarif").read_text())
    assert any(r["ruleId"] == "heap" for r in sarif["runs"][0]["results"])
    html = (out / "report.html").read_text()
    assert ">FAIL<" in html and ">PASS<" not in html and "IRQ4_Handler" in html
    manifest = _manifest_agrees(out)
    assert manifest["verdict"] == "fail"
    listed = {a["path"] for a in manifest["artifacts"]}
    assert "firmware.rejected.elf" in listed and not listed & set(FLASHABLE)

    # Again, with nothing changed: still rejected, still nothing flashable.
    again = scons(project, f"board={BOARD}", check=False)
    assert again.returncode != 0
    assert not any((out / name).exists() for name in FLASHABLE)
    assert _manifest_agrees(out)["verdict"] == "fail"

    # Fixed: the firmware is back under its own name, the rejected copies are gone.
    (project / "src" / "bad_isr.c").unlink()
    scons(project, f"board={BOARD}")
    assert (out / "firmware.bin").read_bytes() == good_bin
    assert not list(out.glob("firmware.rejected.*"))
    assert _manifest_agrees(out)["verdict"] == "pass"


def test_compile_error_after_a_good_build(tmp_path: Path) -> None:
    project = copy_project(EXAMPLE, tmp_path / "demo")
    out = project / "build" / BOARD
    scons(project, f"board={BOARD}")
    (project / "src" / "broken.c").write_text("int broken(void) { return }\n")
    result = scons(project, f"board={BOARD}", check=False)
    assert result.returncode != 0 and "broken.c" in result.stdout + result.stderr
    for name in FLASHABLE:
        assert not (out / name).exists(), f"{name} from the last good build looks current"
    manifest = _manifest_agrees(out)  # gone, or naming only the files that are there
    assert manifest is None or not {a["path"] for a in manifest["artifacts"]} & set(FLASHABLE)


def test_warning_fails_the_build_under_fail_on_warning(tmp_path: Path) -> None:
    """Only a warning (a variable-length array in a handler: dynamic-stack) and
    fail_on = "warning": rejected, and the report and manifest say FAIL, not PASS."""
    project = copy_project(EXAMPLE, tmp_path / "demo")
    toml = project / "firmware.toml"
    toml.write_text(toml.read_text().replace("[harden]\n", '[harden]\nfail_on = "warning"\n'))
    (project / "src" / "vla_isr.c").write_text(
        "volatile unsigned g_len;\nvolatile char g_out;\nvoid IRQ4_Handler(void)\n{\n"
        "    char buffer[g_len + 1u];\n    buffer[g_len] = 1;\n    g_out = buffer[g_len];\n}\n")
    out = project / "build" / BOARD
    result = scons(project, f"board={BOARD}", check=False)
    assert result.returncode != 0
    verify = json.loads((out / "verify.json").read_text())
    assert {f["severity"] for f in verify["findings"]} == {"warning"}, verify["findings"]
    assert not any((out / name).exists() for name in FLASHABLE)
    assert ">FAIL<" in (out / "report.html").read_text()
    assert _manifest_agrees(out)["verdict"] == "fail"
