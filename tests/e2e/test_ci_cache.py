"""The README's CI cache pattern (issue 15 item 7): the SConstruct snippet from README.md
turns on SCons's CacheDir from $FWH_CACHE_DIR, and a second clean checkout in another
directory builds from that cache with no compiler or linker run, its .o, .su, .map and
firmware byte-identical to the first's."""

from __future__ import annotations

import os
import re
from pathlib import Path

from conftest import EXAMPLE, REPO, copy_project, scons

BOARD = "stm32h743"
KEPT = (".o", ".su", ".map", ".elf", ".bin", ".hex")


def _readme_snippet() -> str:
    text = (REPO / "README.md").read_text()
    match = re.search(r"```python\n(import os\nif os.environ.get\(\"FWH_CACHE_DIR\"\):\n.*?)```",
                      text, re.S)
    assert match, "README.md shows no FWH_CACHE_DIR CacheDir snippet"
    return match[1]


def _checkout(target: Path) -> Path:
    project = copy_project(EXAMPLE, target)
    sconstruct = project / "SConstruct"
    lines = sconstruct.read_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("env = "))
    sconstruct.write_text("".join(lines[:at]) + _readme_snippet() + "".join(lines[at:]))
    return project


def _outputs(project: Path) -> dict[Path, bytes]:
    out = project / "build" / BOARD
    return {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and p.suffix in KEPT}


def test_second_checkout_builds_from_the_cache(tmp_path: Path) -> None:
    env = {**os.environ, "FWH_CACHE_DIR": str(tmp_path / "shared-cache")}
    first = _checkout(tmp_path / "runner-1" / "work" / "demo")
    one = scons(first, f"board={BOARD}", env=env)
    assert "CC " in one.stdout, one.stdout
    assert any((tmp_path / "shared-cache").iterdir())
    second = _checkout(tmp_path / "runner-2" / "elsewhere" / "checkout")
    two = scons(second, f"board={BOARD}", env=env)
    assert "CC " not in two.stdout and "LD " not in two.stdout, two.stdout
    kept, restored = _outputs(first), _outputs(second)
    assert any(p.suffix == ".su" for p in kept) and Path("firmware.map") in kept
    assert restored == kept


def test_cache_dir_argument_and_environment_turn_the_cache_on(tmp_path: Path) -> None:
    """No SConstruct change: `scons cache_dir=PATH`, or $FWH_CACHE_DIR, is the user's ask."""
    cache = tmp_path / "cache"
    first = copy_project(EXAMPLE, tmp_path / "a" / "demo")
    one = scons(first, f"board={BOARD}", f"cache_dir={cache}")
    assert "CC " in one.stdout and any(cache.iterdir()), one.stdout
    second = copy_project(EXAMPLE, tmp_path / "b" / "elsewhere")
    two = scons(second, f"board={BOARD}", env={**os.environ, "FWH_CACHE_DIR": str(cache)})
    assert "CC " not in two.stdout and "LD " not in two.stdout, two.stdout
    assert _outputs(second) == _outputs(first)
    third = copy_project(EXAMPLE, tmp_path / "c" / "nocache")
    env = {k: v for k, v in os.environ.items() if k != "FWH_CACHE_DIR"}
    assert "CC " in scons(third, f"board={BOARD}", env=env).stdout  # no cache unless asked
