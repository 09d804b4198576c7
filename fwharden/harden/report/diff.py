"""What a change did to a firmware: two builds' manifests (and verify.json) compared.

`fwharden diff OLD NEW` for a pull request: per-region bytes used with the delta, per
handler and per stack the worst case and margin with the delta, findings added and
removed. Inputs are what every build writes (manifest.json, verify.json beside it), so a CI
job can diff the main branch's artifacts against the pull request's without rebuilding.
A bound that is not exact keeps its kind ("at least", "unbounded"): a delta between two
unbounded worst cases is not a number and is shown as such, never as 0.

Describers only (text, Markdown, data); the CLI prints and decides the exit status.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fwharden.harden.errors import HardenError
from fwharden.inputs import InputError, read_bounded

MANIFEST = "manifest.json"
VERIFY = "verify.json"
_LIMIT = 64 << 20  # a manifest or verify.json is kilobytes; more is not one of ours
_KIND = {"exact": "", "at_least": "at least ", "unbounded": "unbounded"}


@dataclass(frozen=True)
class Build:
    """One side of the diff: the manifest, and verify.json when it is beside it."""

    where: str
    manifest: dict[str, Any]
    verify: dict[str, Any] | None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_bounded(path, _LIMIT))
    except InputError as exc:
        raise HardenError(f"{path}: {exc}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HardenError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") \
            from None
    except ValueError as exc:
        raise HardenError(f"{path}: not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise HardenError(f"{path}: not a fwharden manifest (no JSON object)")
    return data


def load_build(path: Path) -> Build:
    """A build directory (build/<board>/, dist/<name>/) or a manifest.json file."""
    manifest_path = path / MANIFEST if path.is_dir() else path
    if not manifest_path.is_file():
        raise HardenError(f"{manifest_path}: no such file; fix: give a build directory "
                          "(build/<board>) or its manifest.json, after a build")
    manifest = _read_json(manifest_path)
    for key in ("memory", "interrupts", "verdict"):
        if key not in manifest:
            raise HardenError(f"{manifest_path}: not a fwharden manifest (no '{key}')")
    verify_path = manifest_path.parent / VERIFY
    verify = _read_json(verify_path) if verify_path.is_file() else None
    return Build(str(path), manifest, verify)


def _delta(old: int | None, new: int | None) -> int | None:
    return None if old is None or new is None else new - old


def _percent(old: int | None, new: int | None) -> float | None:
    if old is None or new is None or old == 0:
        return None
    return round(100.0 * (new - old) / old, 2)


def _stack_row(name: str, old: dict | None, new: dict | None) -> dict[str, Any]:
    def part(check: dict | None, key: str) -> Any:
        return check.get(key) if check else None
    exact = all(c is None or c.get("kind") != "unbounded" for c in (old, new))
    return {"name": name,
            "old": None if old is None else {"worst_case": old.get("worst_case"),
                                             "kind": old.get("kind"), "size": old.get("size"),
                                             "margin": old.get("margin")},
            "new": None if new is None else {"worst_case": new.get("worst_case"),
                                             "kind": new.get("kind"), "size": new.get("size"),
                                             "margin": new.get("margin")},
            "worst_case_delta": _delta(part(old, "worst_case"), part(new, "worst_case"))
            if exact else None,
            "margin_delta": _delta(part(old, "margin"), part(new, "margin"))}


def _finding_key(f: dict[str, Any]) -> tuple:
    return (f.get("rule"), f.get("root"), f.get("callee"), tuple(f.get("path") or ()))


def _findings(build: Build) -> dict[tuple, dict[str, Any]] | None:
    if build.verify is None:
        return None
    return {_finding_key(f): {"rule": f.get("rule"), "severity": f.get("severity"),
                              "root": f.get("root"), "message": f.get("message"),
                              "file": f.get("file"), "line": f.get("line")}
            for f in build.verify.get("findings", [])}


def diff_builds(old: Build, new: Build) -> dict[str, Any]:
    """The comparison as data (`fwharden diff --json`)."""
    old_mem = {r["region"]: r for r in old.manifest.get("memory", [])}
    new_mem = {r["region"]: r for r in new.manifest.get("memory", [])}
    regions = []
    for name in [*old_mem, *(n for n in new_mem if n not in old_mem)]:
        a, b = old_mem.get(name), new_mem.get(name)
        used_a, used_b = (a or {}).get("used"), (b or {}).get("used")
        regions.append({"region": name, "length": (b or a or {}).get("length"),
                        "old": used_a, "new": used_b, "delta": _delta(used_a, used_b),
                        "percent": _percent(used_a, used_b)})
    old_irq = {i["name"]: i["stack"] for i in old.manifest.get("interrupts", [])}
    new_irq = {i["name"]: i["stack"] for i in new.manifest.get("interrupts", [])}
    handlers = []
    for name in [*old_irq, *(n for n in new_irq if n not in old_irq)]:
        a, b = old_irq.get(name), new_irq.get(name)
        unbounded = any(s and s.get("kind") == "unbounded" for s in (a, b))
        handlers.append({"name": name, "old": a, "new": b,
                         "delta": None if unbounded else _delta((a or {}).get("bytes"),
                                                                (b or {}).get("bytes"))})
    stacks = [_stack_row(label, old.manifest.get(key), new.manifest.get(key))
              for label, key in (("isr", "isr_stack"), ("thread", "thread_stack"))
              if old.manifest.get(key) or new.manifest.get(key)]
    before, after = _findings(old), _findings(new)
    if before is None or after is None:
        findings: dict[str, Any] = {
            "compared": False,
            "by_rule": {"old": old.manifest.get("findings", {}).get("by_rule", {}),
                        "new": new.manifest.get("findings", {}).get("by_rule", {})}}
    else:
        findings = {"compared": True,
                    "added": [after[k] for k in after if k not in before],
                    "removed": [before[k] for k in before if k not in after],
                    "unchanged": sum(1 for k in after if k in before)}
    return {"old": {"where": old.where, "board": old.manifest.get("board", {}).get("name"),
                    "verdict": old.manifest.get("verdict")},
            "new": {"where": new.where, "board": new.manifest.get("board", {}).get("name"),
                    "verdict": new.manifest.get("verdict")},
            "regions": regions, "handlers": handlers, "stacks": stacks, "findings": findings}


# -- growth thresholds ---------------------------------------------------------------------

_THRESHOLD = re.compile(r"^(?:(?P<name>[A-Za-z0-9_.-]+)=)?(?P<value>\d+)(?P<unit>%|B)?$")


@dataclass(frozen=True)
class Threshold:
    """Growth allowed before `--fail-on-growth` fails: bytes or percent, for one region or
    stack (by name) or for all of them."""

    value: int
    percent: bool
    name: str | None = None

    def describe(self) -> str:
        return f"{self.name + '=' if self.name else ''}{self.value}{'%' if self.percent else ' B'}"


def parse_threshold(text: str) -> Threshold:
    """`1024`, `1024B`, `2%`, `flash=512`, `isr=0`; HardenError naming the text otherwise."""
    match = _THRESHOLD.match(text.strip())
    if not match:
        raise HardenError(f"--fail-on-growth '{text}': not a threshold; fix: write bytes "
                          "(1024), a percentage (2%), or NAME=... for one region or stack")
    return Threshold(int(match["value"]), match["unit"] == "%", match["name"])


def growth_violations(diff: dict[str, Any], thresholds: list[Threshold]) -> list[str]:
    """One line per region or stack that grew past a threshold that applies to it. An
    unbounded worst case that was bounded before is growth past every threshold."""
    names = {r["region"] for r in diff["regions"]} | {s["name"] for s in diff["stacks"]}
    for t in thresholds:
        if t.name is not None and t.name not in names:
            raise HardenError(f"--fail-on-growth {t.describe()}: no region or stack "
                              f"'{t.name}'; fix: use one of {', '.join(sorted(names))}")
    rows = [(r["region"], r["old"], r["new"], False) for r in diff["regions"]]
    for s in diff["stacks"]:
        old, new = s["old"] or {}, s["new"] or {}
        rows.append((s["name"], old.get("worst_case"), new.get("worst_case"),
                     new.get("kind") == "unbounded" and old.get("kind") != "unbounded"))
    out = []
    for name, old, new, lost_bound in rows:
        for t in (t for t in thresholds if t.name in (None, name)):
            if lost_bound:
                out.append(f"{name}: worst case is now unbounded (limit {t.describe()})")
                break
            if old is None or new is None or new <= old:
                continue
            grew = new - old
            over = (100.0 * grew / old > t.value if old else True) if t.percent \
                else grew > t.value
            if over:
                pct = f" ({100.0 * grew / old:+.2f}%)" if old else ""
                out.append(f"{name}: grew by {grew} B{pct}, over the limit {t.describe()}")
                break
    return out


# -- describers ----------------------------------------------------------------------------

def _signed(value: int | None) -> str:
    return "n/a" if value is None else f"{value:+d} B"


def _bound(check: dict | None, key: str = "worst_case") -> str:
    if not check:
        return "-"
    kind = check.get("kind", "exact")
    if kind == "unbounded":
        return "unbounded"
    return f"{_KIND.get(kind, '')}{check.get(key)} B"


def _stack_text(check: dict | None) -> tuple[str, str]:
    if not check:
        return "-", "-"
    margin = check.get("margin")
    return _bound(check), "-" if margin is None else f"{margin} B"


def _handler(stack: dict | None) -> str:
    if not stack:
        return "-"
    return _bound({"worst_case": stack.get("bytes"), "kind": stack.get("kind")})


def _rows(diff: dict[str, Any]) -> tuple[list[list[str]], list[list[str]], list[list[str]]]:
    regions = [[r["region"], "-" if r["old"] is None else f"{r['old']} B",
                "-" if r["new"] is None else f"{r['new']} B", _signed(r["delta"]),
                "" if r["percent"] is None else f"{r['percent']:+.2f}%"]
               for r in diff["regions"]]
    stacks = []
    for s in diff["stacks"]:
        (old_w, old_m), (new_w, new_m) = _stack_text(s["old"]), _stack_text(s["new"])
        stacks.append([s["name"], old_w, new_w, _signed(s["worst_case_delta"]), old_m, new_m,
                       _signed(s["margin_delta"])])
    handlers = [[h["name"], _handler(h["old"]), _handler(h["new"]), _signed(h["delta"])]
                for h in diff["handlers"]
                if h["old"] != h["new"]]
    return regions, stacks, handlers


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    return ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
            for row in (header, *rows)]


def _finding_line(f: dict[str, Any]) -> str:
    where = f" ({f['file']}:{f['line']})" if f.get("file") else ""
    return f"{(f.get('severity') or '').upper()} [{f.get('rule')}] {f.get('message')}{where}"


def describe_diff(diff: dict[str, Any]) -> str:
    """The comparison for a terminal."""
    regions, stacks, handlers = _rows(diff)
    old, new = diff["old"], diff["new"]
    lines = [f"fwharden diff {old['where']} ({old['verdict']}) -> {new['where']} "
             f"({new['verdict']})", ""]
    lines += _table(["region", "old", "new", "delta", ""], regions) + [""]
    if stacks:
        lines += _table(["stack", "worst case", "new", "delta", "margin", "new", "delta"],
                        stacks) + [""]
    if handlers:
        lines += _table(["handler", "worst case", "new", "delta"], handlers) + [""]
    else:
        lines += ["handlers: no worst case changed", ""]
    findings = diff["findings"]
    if findings["compared"]:
        lines += [f"findings: {len(findings['added'])} added, {len(findings['removed'])} "
                  f"removed, {findings['unchanged']} unchanged"]
        lines += [f"  + {_finding_line(f)}" for f in findings["added"]]
        lines += [f"  - {_finding_line(f)}" for f in findings["removed"]]
    else:
        lines += [f"findings by rule (no verify.json to compare one by one): "
                  f"{findings['by_rule']['old']} -> {findings['by_rule']['new']}"]
    return "\n".join(lines) + "\n"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text: str) -> str:
        return str(text).replace("|", "\\|")
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(cell(c) for c in row) + " |" for row in rows)]


def describe_diff_markdown(diff: dict[str, Any]) -> str:
    """The comparison as a pull-request comment (GitHub-flavoured Markdown)."""
    regions, stacks, handlers = _rows(diff)
    old, new = diff["old"], diff["new"]
    board = new["board"] or old["board"] or ""
    lines = [f"### fwharden: {board} {old['verdict'].upper()} → {new['verdict'].upper()}"
             if old.get("verdict") and new.get("verdict") else f"### fwharden: {board}", ""]
    lines += ["**Memory**", ""] + _md_table(["region", "old", "new", "delta", "%"], regions)
    if stacks:
        lines += ["", "**Stacks**", ""] + _md_table(
            ["stack", "worst case", "new", "delta", "margin", "new", "delta"], stacks)
    if handlers:
        lines += ["", "**Handlers whose worst case changed**", ""] + _md_table(
            ["handler", "worst case", "new", "delta"], handlers)
    findings = diff["findings"]
    lines += ["", "**Findings**", ""]
    if findings["compared"]:
        lines.append(f"{len(findings['added'])} added, {len(findings['removed'])} removed, "
                     f"{findings['unchanged']} unchanged")
        lines += [f"- ➕ {_finding_line(f)}" for f in findings["added"]]
        lines += [f"- ➖ {_finding_line(f)}" for f in findings["removed"]]
    else:
        lines.append(f"by rule: {findings['by_rule']['old']} → {findings['by_rule']['new']}")
    return "\n".join(lines) + "\n"
