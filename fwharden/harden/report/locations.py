"""Where a finding lives in the project, as SARIF's physicalLocation wants it.

GitHub code scanning rejects a whole SARIF upload when one result has no physical
location (an `artifactLocation.uri` relative to the repository and a `region.startLine`),
and most of verify's findings have no call site: a stack that overflows, a configuration
key that matches nothing, a vector table that is not found. Each gets the place a person
would fix it, in this order:

1. the call site DWARF gave (`finding.file`/`line`);
2. a stack finding: the stack's definition in the generated linker script
   (`__fwh_isr_stack_start = .;`), where its size is set;
3. the function the finding names (the handler, or the last function of its path): the
   line DWARF gives for its first instruction;
4. a configuration finding: the `[harden]` table of firmware.toml;
5. otherwise the linker script, firmware.toml or, last, the ELF itself, line 1.

URIs are relative to the project root with `/` separators; a file outside the project
(a toolchain header, fwharden's runtime) keeps an absolute `file://` URI, which the schema
allows and GitHub shows without a link.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from fwharden.harden.analysis.verify import Finding, VerifyResult

_STACK_RULES = {"isr-stack-overflow": "isr", "thread-stack-overflow": "thread"}
_CONFIG_RULES = {"config", "unused-setting", "library-model"}


@dataclass(frozen=True)
class Place:
    """A file (absolute, or relative to the project root) and a 1-based line."""

    file: str
    line: int


@dataclass(frozen=True)
class Project:
    """What the caller knows of the build: paths to name results by."""

    root: Path                       # URIs are relative to this directory
    elf: Path
    linker_script: Path | None = None
    config: Path | None = None       # firmware.toml
    # Line of each function's first instruction, by name (from the ELF's DWARF).
    function_lines: dict[str, Place] | None = None


def function_lines(elf: Path, names: set[str]) -> dict[str, Place]:
    """(file, line) of the first instruction of each named function the ELF has DWARF for."""
    from fwharden.harden.elf.image import load_image
    from fwharden.harden.elf.lines import load_lines
    image = load_image(elf)
    lines = load_lines(elf)
    out: dict[str, Place] = {}
    for name in sorted(names):
        func = image.function_named(name)
        where = lines.lookup(func.address) if func is not None else None
        if where:
            out[name] = Place(where[0], where[1])
    return out


def names_to_locate(result: VerifyResult) -> set[str]:
    """Every function a finding names (its root and its path)."""
    return {n for f in result.findings for n in (f.root, *f.path) if n}


def _line_of(path: Path | None, pattern: str) -> int | None:
    """1-based number of the first line of `path` matching `pattern`; None when absent."""
    if path is None:
        return None
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return None
    regex = re.compile(pattern)
    for number, line in enumerate(text.splitlines(), 1):
        if regex.search(line):
            return number
    return None


def place_of(finding: Finding, project: Project) -> Place:
    """The place to show `finding` at (see the module docstring for the order)."""
    if finding.file and finding.line:
        return Place(finding.file, finding.line)
    stack = _STACK_RULES.get(finding.rule)
    if stack is not None:
        line = _line_of(project.linker_script, rf"^\s*__fwh_{stack}_stack_start\s*=")
        if line is not None and project.linker_script is not None:
            return Place(str(project.linker_script), line)
    known = project.function_lines or {}
    for name in (*reversed(finding.path), finding.root):
        if name in known:
            return known[name]
    if finding.rule in _CONFIG_RULES and project.config is not None:
        return Place(str(project.config), _line_of(project.config, r"^\s*\[harden") or 1)
    for path in (project.linker_script, project.config):
        if path is not None and path.is_file():
            return Place(str(path), 1)
    return Place(str(project.elf), 1)


def artifact_uri(file: str, root: Path) -> str:
    """`file` relative to `root` with `/` separators, or an absolute file:// URI when it
    lies outside (DWARF names are absolute, or relative to the compile directory, which
    fwharden's builds map to the project root with -ffile-prefix-map)."""
    path = Path(file)
    if not path.is_absolute():
        return PurePosixPath(*path.parts).as_posix()
    try:
        rel = Path(os.path.relpath(os.path.realpath(path), os.path.realpath(root)))
    except ValueError:
        rel = None
    if rel is None or rel.parts[:1] == ("..",):
        return path.as_uri()
    return PurePosixPath(*rel.parts).as_posix()


def physical_location(finding: Finding, project: Project) -> dict[str, Any]:
    place = place_of(finding, project)
    return {"artifactLocation": {"uri": artifact_uri(place.file, project.root)},
            "region": {"startLine": max(1, place.line)}}


def project_for(result: VerifyResult, elf: Path, root: Path, linker_script: Path | None,
                config: Path | None) -> Project:
    """A Project with the function lines of every function `result`'s findings name."""
    names = names_to_locate(result)
    return Project(root=root, elf=elf, linker_script=linker_script, config=config,
                   function_lines=function_lines(elf, names) if names else {})
