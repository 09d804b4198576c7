"""Imports run one way: a lower layer never imports a higher one (function-level imports too).

Every module under fwharden/ is parsed with `ast` (nothing is imported, so the check needs
no toolchain and takes milliseconds). The rules are the layer table of docs/architecture.md.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "fwharden"

# Inside fwharden.harden: rank by layer; a module may import its own rank or lower ones.
HARDEN_LAYERS = {"errors": 0, "elf": 1, "isa": 2, "analysis": 3, "report": 4, "faults": 4}
# Top-level packages with a fixed list of what they may import from fwharden.
ALLOWED = {
    "board_profiles": ("fwharden.board_profiles", "fwharden.harden.analysis.policy",
                       "fwharden.inputs", "fwharden.lazy"),
    "toolchain": ("fwharden.toolchain", "fwharden.board_profiles", "fwharden.lazy"),
    "linker": ("fwharden.linker", "fwharden.board_profiles"),
    "runtime": ("fwharden.runtime",),
}
# Third-party modules a package may import (stdlib is always allowed).
THIRD_PARTY = {"board_profiles": ("tomli",)}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every import in the file, nested ones included."""
    tree = ast.parse(path.read_text(), filename=str(path))
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            out.append((node.lineno, target))
            # `from fwharden.harden import analysis` imports a subpackage.
            out.extend((node.lineno, f"{target}.{alias.name}") for alias in node.names
                       if alias.name != "*" and target.startswith("fwharden"))
    return out


def _is_module(name: str) -> bool:
    parts = name.split(".")
    path = PACKAGE.parent.joinpath(*parts)
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def _harden_rank(name: str) -> int | None:
    parts = name.split(".")
    if parts[:2] != ["fwharden", "harden"] or len(parts) < 3:
        return None
    return HARDEN_LAYERS.get(parts[2])


def violations(path: Path) -> list[str]:
    """The imports in `path` that break a layer rule, as 'file:line: rule' lines."""
    name = _module_name(path)
    parts = name.split(".")
    where = path.relative_to(PACKAGE.parent)
    found = []
    for line, target in _imports(path):
        if target.startswith("fwharden") and not _is_module(target):
            continue  # a name imported from a module, not a module
        if parts[:2] == ["fwharden", "harden"] and len(parts) > 2:
            own, other = HARDEN_LAYERS.get(parts[2]), _harden_rank(target)
            if own is not None and other is not None:
                if other > own:
                    found.append(f"{where}:{line}: {parts[2]} imports higher layer {target}")
                elif other == own and target.split(".")[2] != parts[2]:
                    found.append(f"{where}:{line}: {parts[2]} imports sibling layer {target}")
            if target.startswith(("fwharden.scons", "fwharden.cli", "fwharden.importer")):
                found.append(f"{where}:{line}: harden imports {target}")
        top = parts[1] if len(parts) > 1 else ""
        if top in ALLOWED:
            root = target.split(".")[0]
            if target.startswith("fwharden"):
                if not any(target == a or target.startswith(a + ".") for a in ALLOWED[top]):
                    found.append(f"{where}:{line}: {top} may not import {target}")
            elif root not in sys.stdlib_module_names and root not in THIRD_PARTY.get(top, ()):
                found.append(f"{where}:{line}: {top} may not import third-party {target}")
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_imports_run_one_way(path: Path) -> None:
    assert violations(path) == []


def test_the_check_catches_a_higher_import(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The rule itself, on a copy of the tree with one bad import added to each kind of layer."""
    import shutil

    copy = tmp_path / "fwharden"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "*.c", "*.h"))
    monkeypatch.setattr(sys.modules[__name__], "PACKAGE", copy)
    bad = {
        "harden/elf/lines.py": "def f():\n    from fwharden.harden.analysis import verify\n",
        "harden/report/text.py": "from fwharden.harden.faults.decode import decode_fault\n",
        "harden/analysis/roots.py": "from ..report import json\n",
        "board_profiles/model.py": "import capstone\n",
        "linker/layout.py": "from fwharden.harden.elf.image import Image\n",
        "runtime/__init__.py": "from fwharden.board_profiles import Profile\n",
    }
    for rel, text in bad.items():
        target = copy / rel
        target.write_text(target.read_text() + "\n" + text)
        assert violations(target), rel
    assert violations(copy / "harden/analysis/verify.py") == []


def test_policy_imports_nothing_of_fwharden() -> None:
    """board_profiles imports the policy type; it must not drag the analysis in with it."""
    path = PACKAGE / "harden" / "analysis" / "policy.py"
    assert [t for _, t in _imports(path) if t.startswith("fwharden")] == []


def test_board_profiles_stay_light() -> None:
    """SCons reads board_profiles on every run: no pyelftools, capstone or LIEF behind it."""
    import subprocess

    code = ("import sys, fwharden.board_profiles.project, fwharden.harden; "
            "print(sorted(m for m in ('capstone', 'elftools', 'lief') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_harden_imports_only_itself_and_board_profiles() -> None:
    """The post-link stages never reach into the build side (toolchain, linker, scons, cli);
    the leaf helpers for bounded input reading and atomic output are shared."""
    allowed = ("fwharden.harden", "fwharden.board_profiles", "fwharden.inputs", "fwharden.atomic",
               "fwharden.lazy")
    found = []
    for path in sorted((PACKAGE / "harden").rglob("*.py")):
        for line, target in _imports(path):
            if target.startswith("fwharden.") and _is_module(target) and not any(
                    target == a or target.startswith(a + ".") for a in allowed):
                found.append(f"{path.relative_to(PACKAGE)}:{line}: {target}")
    assert found == []


def test_shared_leaf_helpers_import_nothing_of_fwharden() -> None:
    for name in ("inputs.py", "atomic.py", "lazy.py"):
        assert [t for _, t in _imports(PACKAGE / name) if t.startswith("fwharden")] == [], name
