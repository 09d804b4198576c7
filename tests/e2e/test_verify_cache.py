"""Incremental verify (issue 19 item 3): after a one-function edit and a rebuild, the
cached run decodes one function and its JSON report is byte for byte the cold run's.

A real build (arm-none-eabi-gcc -O2, mps2-an500) of a small project, built once before
and once after the edit; the edit changes a constant, so the function keeps its size and
every other function its address and bytes (checked from the ELFs, not assumed). The
counts come from the cache's own stats, not from timings. A damaged cache file and
tampered entries are decoded afresh, with the same report.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from fwharden.harden.analysis.decode_cache import FILE_NAME
from fwharden.harden.analysis.run import verify_elf
from fwharden.harden.elf.image import load_image
from fwharden.harden.report.json import json_text, to_json
from fwharden.scaffold import SCONSTRUCT
from tests.conftest import scons

BOARD = "mps2-an500"
TOML = f"""\
schema_version = 1
[project]
name = "cache-demo"
board = "{BOARD}"
opt = "2"
sources = ["src/*.c"]
[harden]
fail_on = "never"
"""
# Handlers reach a chain of functions and an unresolved indirect call (a finding, so the
# report carries a source line too).
SOURCE = """\
volatile int g[8];
void (*volatile hook)(int);
__attribute__((noinline)) int step0(int x) { g[1] = x; return x * 3 + g[2]; }
__attribute__((noinline)) int step1(int x) { g[3] = 0x{CONSTANT}; return step0(x) ^ g[4]; }
__attribute__((noinline)) int step2(int x) { return step1(x + g[5]) + step0(x); }
__attribute__((noinline)) int step3(int x) { if (x & 4) hook(x); return step2(x); }
void TIMER0_IRQHandler(void) { g[0] = step3(g[6]); }
void UART0RX_IRQHandler(void) { g[7] = step2(g[0]); }
int main(void) { return step0(1) & 0; }
"""


def _write(project: Path, constant: str) -> None:
    (project / "src").mkdir(parents=True, exist_ok=True)
    (project / "src" / "app.c").write_text(SOURCE.replace("{CONSTANT}", constant))


def _json(elf: Path, **kwargs) -> str:
    return json_text(to_json(verify_elf(elf, BOARD, su_files=sorted(
        (elf.parent / "obj").rglob("*.su")), **kwargs)))


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(ELF before the edit, ELF after it, the build directory after it)."""
    root = tmp_path_factory.mktemp("verify-cache")
    project = root / "demo"
    project.mkdir()
    (project / "SConstruct").write_text(SCONSTRUCT)
    (project / "firmware.toml").write_text(TOML)
    _write(project, "11")
    scons(project, f"board={BOARD}")
    out = project / "build" / BOARD
    before = root / "before.elf"
    shutil.copy(out / "firmware.elf", before)
    shutil.copytree(out / "obj", root / "before-obj")
    _write(project, "22")
    scons(project, f"board={BOARD}")
    return before, out / "firmware.elf", out


def test_one_edited_function_is_decoded_again(builds, tmp_path: Path) -> None:
    before, after, _out = builds
    old, new = load_image(before), load_image(after)
    # The premise, from the ELFs: step1 kept its size and changed its bytes; every other
    # function is where it was.
    changed = [f.name for f in new.functions
               if old.function_named(f.name) is None
               or old.read(f.address, f.size) != new.read(f.address, f.size)]
    assert changed == ["step1"]
    assert [(f.address, f.size) for f in old.functions] == \
        [(f.address, f.size) for f in new.functions]

    cache = tmp_path / "cache"
    first: dict[str, int] = {}
    verify_elf(before, BOARD, cache=cache, stats=first)
    assert first["decoded"] > 5 and first["reused"] == 0
    again: dict[str, int] = {}
    cached = _json(after, cache=cache, stats=again)
    assert again["decoded"] == 1
    assert again["reused"] == first["decoded"] - 1
    assert cached == _json(after)   # byte for byte the cold run


def test_the_build_step_uses_its_cache(builds, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SCons verify step (which checks firmware.unpatched.elf, named from the project
    directory) kept its cache in the build directory, and its report is the cold run's."""
    _before, _after, out = builds
    assert (out / ".fwh-verify-cache" / FILE_NAME).is_file()
    monkeypatch.chdir(out.parent.parent)
    cold = _json(Path("build", BOARD, "firmware.unpatched.elf"))
    assert (out / "verify.json").read_text() == cold


def test_damaged_or_tampered_cache_is_decoded_afresh(builds, tmp_path: Path) -> None:
    _before, after, _out = builds
    cold = _json(after)
    cache = tmp_path / "cache"
    full: dict[str, int] = {}
    assert _json(after, cache=cache, stats=full) == cold
    path = cache / FILE_NAME
    data = json.loads(path.read_text())
    # Each entry's first recorded answer changed: none may be reused.
    for entry in data["entries"].values():
        kind, args, answer = entry["asked"][0]
        entry["asked"][0] = [kind, args, [answer, "changed"]]
    path.write_text(json.dumps(data))
    stats: dict[str, int] = {}
    assert _json(after, cache=cache, stats=stats) == cold
    assert stats == {**full, "reused": 0}
    # Entries moved under other functions' keys are not used for them either.
    data = json.loads(path.read_text())
    keys = list(data["entries"])
    data["entries"] = dict(zip(keys, [data["entries"][k] for k in keys[1:] + keys[:1]],
                               strict=True))
    path.write_text(json.dumps(data))
    stats = {}
    assert _json(after, cache=cache, stats=stats) == cold and stats["reused"] == 0
    # Not JSON at all, or another version's file: ignored and replaced.
    for text in ("{not json", json.dumps({**data, "key": "another fwharden"}), "\x00\xff"):
        path.write_text(text)
        stats = {}
        assert _json(after, cache=cache, stats=stats) == cold and stats["reused"] == 0
    stats = {}
    assert _json(after, cache=cache, stats=stats) == cold
    assert stats["decoded"] == 0 and stats["reused"] == full["decoded"]
