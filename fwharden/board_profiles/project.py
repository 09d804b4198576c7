"""The project file `firmware.toml`: what to build, and the project's changes to a board.

A project names its sources (globs), include dirs, defines, a default board and toolchain,
per-board overrides and stack-size overrides; `[harden]` becomes the verifier's own type,
`fwharden.harden.analysis.policy.HardenPolicy` (constructed here, defined there).
Like the profile loader it checks version, schema, semantics and raises `ProjectError`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fwharden.harden.analysis.policy import FAIL_ON, SEVERITIES, HardenPolicy

from .errors import ProfileError, ProjectError
from .loader import SCHEMA_VERSION, STACK_LAYOUTS, check_semantics
from .model import Profile
from .tomlread import Size, Table, check_schema, parse_size, read_toml

TOOLCHAINS = ("gcc", "clang", "tinygo")
LANGUAGES = ("c", "go")
LIBCS = ("none", "newlib-nano", "picolibc")
OPT_LEVELS = ("0", "1", "2", "3", "s", "z", "g")

_BUILD_KEYS: dict[str, Any] = {
    "sources": [str],
    "include_dirs": [str],
    "defines": [str],
    "cflags": [str],
    "asflags": [str],
    "ldflags": [str],
    "libs": [str],
}
LINKER_MODES = ("generated", "vendor")
_STACK_KEYS: dict[str, Any] = {
    "isr_size": Size,
    "thread_size": Size,
    "guard_size": Size,
    "layout": str,
    "region": str,       # the memory region that holds both stacks
    "heap_size": Size,   # the heap (_sbrk) between bss and the stacks' region
}
PROJECT_SCHEMA: dict[str, Any] = {
    "schema_version": int,
    "project": {
        "name": str,
        "board": str,
        "toolchain": str,
        "language": str,
        "opt": str,
        "libc": str,
        "board_dirs": [str],
        "linker": str,
        "linker_script": str,
        **_BUILD_KEYS,
    },
    "stacks": _STACK_KEYS,
    "boards": Table({**_BUILD_KEYS, "stacks": _STACK_KEYS}),
    "runtime": {
        "irq_cycles": bool,   # time every handler with DWT CYCCNT / mcycle (cycles.c)
    },
    "harden": {
        "fail_on": str,
        "thread_context": [str],
        "nesting_levels": int,
        "priorities": Table(int),
        "indirect": Table([str]),
        "forbid": Table(str),
        "allow": Table(object),      # "reason" or { reason = "...", stack = N }
        "severity": Table(str),
        "recursion": Table(int),
        "shared": Table(str),        # variable -> how the project protects it
    },
}


@dataclass(frozen=True)
class BuildSettings:
    """Compiler inputs a project adds: source globs, include dirs, defines, extra flags."""

    sources: tuple[str, ...] = ()
    include_dirs: tuple[str, ...] = ()
    defines: tuple[str, ...] = ()
    cflags: tuple[str, ...] = ()
    asflags: tuple[str, ...] = ()
    ldflags: tuple[str, ...] = ()
    libs: tuple[str, ...] = ()

    def extended(self, other: BuildSettings) -> BuildSettings:
        """These settings followed by `other`'s (per-board settings add to the common ones)."""
        return BuildSettings(*(getattr(self, f.name) + getattr(other, f.name)
                               for f in dataclasses.fields(self)))


@dataclass(frozen=True)
class StackOverrides:
    """Stack policy values a project sets over the board's; None keeps the board's value."""

    isr_size: int | None = None
    thread_size: int | None = None
    guard_size: int | None = None
    layout: str | None = None
    region: str | None = None
    heap_size: int | None = None

    def merged(self, other: StackOverrides) -> StackOverrides:
        """`other`'s values where set, else ours."""
        return StackOverrides(*(getattr(other, f.name) if getattr(other, f.name) is not None
                                else getattr(self, f.name) for f in dataclasses.fields(self)))


@dataclass(frozen=True)
class Project:
    """A validated `firmware.toml`."""

    path: Path
    name: str
    board: str
    toolchain: str = "gcc"
    language: str = "c"
    opt: str = "2"
    libc: str = "none"
    board_dirs: tuple[Path, ...] = ()
    linker: str = "generated"
    linker_script: str = ""
    build: BuildSettings = BuildSettings()
    stacks: StackOverrides = StackOverrides()
    per_board: tuple[tuple[str, BuildSettings, StackOverrides], ...] = ()
    harden: HardenPolicy = HardenPolicy()
    irq_cycles: bool = False      # [runtime] irq_cycles: the timing wrappers and counter

    @property
    def root(self) -> Path:
        return self.path.parent

    def settings_for(self, board: str) -> tuple[BuildSettings, StackOverrides]:
        """Common settings extended by the board's own `[boards.<name>]` table."""
        build, stacks = self.build, self.stacks
        for name, board_build, board_stacks in self.per_board:
            if name == board:
                build = build.extended(board_build)
                stacks = stacks.merged(board_stacks)
        return build, stacks


def load_project(path: Path) -> Project:
    """Read and validate `firmware.toml`."""
    return project_from_data(read_toml(path, ProjectError), path)


def project_from_data(data: Mapping[str, Any], path: Path) -> Project:
    version = data.get("schema_version")
    if version != SCHEMA_VERSION:
        problem = "missing" if version is None else f"version {version!r} is not supported"
        raise ProjectError(path, "schema_version", problem,
                           f"put schema_version = {SCHEMA_VERSION} at the top")
    check_schema(data, PROJECT_SCHEMA, path, ProjectError)
    proj = data.get("project", {})
    for key in ("name", "board"):
        if key not in proj:
            raise ProjectError(path, f"project.{key}", "missing", f"add {key} to [project]")
    toolchain = _choice(path, "project.toolchain", proj.get("toolchain", "gcc"), TOOLCHAINS)
    language = _choice(path, "project.language", proj.get("language", "c"), LANGUAGES)
    per_board = tuple(
        (name, _build(table, path, f"boards.{name}"),
         _stack_overrides(table.get("stacks", {}), path, f"boards.{name}.stacks"))
        for name, table in data.get("boards", {}).items()
    )
    build = _build(proj, path, "project")
    linker = _choice(path, "project.linker", proj.get("linker", "generated"), LINKER_MODES)
    script = proj.get("linker_script", "")
    if linker == "vendor" and not script:
        raise ProjectError(path, "project.linker_script", "vendor mode needs the project's "
                           "linker script", 'add linker_script = "STM32H743ZITx_FLASH.ld"')
    if script and not (path.parent / script).is_file():
        raise ProjectError(path, "project.linker_script", f"'{script}' does not exist",
                           "give the path relative to firmware.toml")
    if not build.sources and language == "c":
        raise ProjectError(path, "project.sources", "no sources",
                           'add sources = ["src/*.c"] to [project]')
    return Project(
        path=path,
        name=proj["name"],
        board=proj["board"],
        toolchain=toolchain,
        language=language,
        opt=_choice(path, "project.opt", proj.get("opt", "2"), OPT_LEVELS),
        libc=_choice(path, "project.libc", proj.get("libc", "none"), LIBCS),
        board_dirs=tuple(path.parent / d for d in proj.get("board_dirs", [])),
        linker=linker,
        linker_script=script,
        build=build,
        stacks=_stack_overrides(data.get("stacks", {}), path, "stacks"),
        per_board=per_board,
        harden=harden_policy(data.get("harden", {}), path),
        irq_cycles=data.get("runtime", {}).get("irq_cycles", False),
    )


def harden_policy(table: Mapping[str, Any], path: Path) -> HardenPolicy:
    """`[harden]` as a HardenPolicy; the schema has already checked the types."""
    fail_on = _choice(path, "harden.fail_on", table.get("fail_on", "error"), FAIL_ON)
    for rule, level in table.get("severity", {}).items():
        _choice(path, f"harden.severity.{rule}", level, SEVERITIES)
    allow, allow_stack = _allow(table.get("allow", {}), path)
    for name, reason in table.get("shared", {}).items():
        if not reason.strip():
            raise ProjectError(path, f"harden.shared.{name}", "needs a reason",
                               f'write "{name}" = "how the project keeps it race-free"')
    for name, reason in (*table.get("forbid", {}).items(), *allow):
        if not reason.strip():
            raise ProjectError(path, f"harden.forbid.{name}", "needs a reason",
                               f'write "{name}" = "why it is (not) allowed in interrupts"')
    levels = table.get("nesting_levels")
    if levels is not None and levels < 1:
        raise ProjectError(path, "harden.nesting_levels", "must be at least 1",
                           "give how many interrupt priority levels may nest")
    for key in table.get("indirect", {}):
        if key.startswith("0x") and parse_size(key) is None:
            raise ProjectError(path, f"harden.indirect.{key}", "is not an address",
                               'write the call site as "0x08000124"')
    for name, depth in table.get("recursion", {}).items():
        if isinstance(depth, bool) or not 1 <= depth <= 64:
            raise ProjectError(path, f"harden.recursion.{name}", "must be from 1 to 64",
                               "give the most times a function of the cycle can be on the "
                               "stack at once")
    return HardenPolicy(
        fail_on=fail_on,
        thread_context=tuple(table.get("thread_context", [])),
        nesting_levels=levels,
        priorities=tuple(table.get("priorities", {}).items()),
        indirect=tuple((k, tuple(v)) for k, v in table.get("indirect", {}).items()),
        forbid=tuple(table.get("forbid", {}).items()),
        allow=allow,
        allow_stack=allow_stack,
        severity=tuple(table.get("severity", {}).items()),
        recursion=tuple(table.get("recursion", {}).items()),
        shared=tuple(table.get("shared", {}).items()),
    )


def _allow(table: Mapping[str, Any], path: Path
           ) -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, int], ...]]:
    """`[harden.allow]`: `name = "reason"` or `name = { reason = "...", stack = N }`."""
    reasons, stacks = [], []
    for name, value in table.items():
        key = f"harden.allow.{name}"
        if isinstance(value, dict):
            unknown = set(value) - {"reason", "stack"}
            if unknown:
                raise ProjectError(path, f"{key}.{sorted(unknown)[0]}", "unknown key",
                                   "use reason and stack")
            reason, stack = value.get("reason"), value.get("stack")
            if stack is not None:
                if isinstance(stack, bool) or not isinstance(stack, int) or stack < 0:
                    raise ProjectError(path, f"{key}.stack", "must be a number of bytes",
                                       f"write {name} = {{ reason = \"...\", stack = 256 }}")
                stacks.append((name, stack))
        else:
            reason = value
        if not isinstance(reason, str):
            raise ProjectError(path, key, "needs a reason",
                               f'write "{name}" = "why it is allowed in interrupts"')
        reasons.append((name, reason))
    return tuple(reasons), tuple(stacks)


def _choice(path: Path, key: str, value: str, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ProjectError(path, key, f"'{value}' is not supported", f"use one of: {', '.join(allowed)}")
    return value


def _build(table: Mapping[str, Any], path: Path, prefix: str) -> BuildSettings:
    for key in ("sources", "include_dirs"):
        for item in table.get(key, []):
            if Path(item).is_absolute() or ".." in Path(item).parts:
                raise ProjectError(path, f"{prefix}.{key}", f"'{item}' leaves the project",
                                   "use paths relative to the directory of firmware.toml")
    return BuildSettings(*(tuple(table.get(key, [])) for key in _BUILD_KEYS))


def _stack_overrides(table: Mapping[str, Any], path: Path, prefix: str) -> StackOverrides:
    layout = table.get("layout")
    if layout is not None:
        _choice(path, f"{prefix}.layout", layout, STACK_LAYOUTS)
    return StackOverrides(
        isr_size=parse_size(table["isr_size"]) if "isr_size" in table else None,
        thread_size=parse_size(table["thread_size"]) if "thread_size" in table else None,
        guard_size=parse_size(table["guard_size"]) if "guard_size" in table else None,
        layout=layout,
        region=table.get("region"),
        heap_size=parse_size(table["heap_size"]) if "heap_size" in table else None,
    )


def apply_stack_overrides(profile: Profile, overrides: StackOverrides, source: Path,
                          prefix: str = "stacks") -> Profile:
    """The profile with the project's stack values, checked again against the board's rules.

    A value that breaks a rule is reported against `source` (firmware.toml or the command
    line), because that is where the user must change it.
    """
    changes = {f.name: getattr(overrides, f.name) for f in dataclasses.fields(overrides)
               if getattr(overrides, f.name) is not None}
    if not changes:
        return profile
    heap = changes.pop("heap_size", None)
    updated = dataclasses.replace(profile, stacks=dataclasses.replace(profile.stacks, **changes))
    if heap is not None:
        updated = dataclasses.replace(updated, placement=dataclasses.replace(
            updated.placement, heap_size=heap))
    try:
        check_semantics(updated, profile.source)
    except ProfileError as exc:
        if exc.key.startswith("stacks."):
            rest = exc.key[len("stacks."):]
            key = f"{prefix}.{rest}" if prefix else rest
            raise ProjectError(source, key, exc.problem, exc.fix) from None
        raise
    return updated
