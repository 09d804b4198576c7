"""The hardening manifest: everything a CI job keeps about one firmware build, as JSON.

Built from plain values (the stage outputs and the files on disk) so it is byte-for-byte
reproducible: paths are relative to the project (fwharden's runtime as
`fwharden-runtime/...`), lists are sorted, keys are sorted, there is no time stamp
(`SOURCE_DATE_EPOCH` is recorded when the environment sets one). The JSON Schema ships
beside this module as `manifest.schema.json`.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from fwharden import __version__
from fwharden.inputs import file_sha256

SCHEMA_ID = "https://fwharden.dev/schemas/manifest-1.json"
SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ManifestInputs:
    """What the build knows when it writes the manifest (paths are real files)."""

    project: str
    board: str
    profile: dict[str, Any]                 # the resolved profile, as profile_to_dict gives it
    toolchain: str
    tool_versions: tuple[tuple[str, str], ...]
    cflags: tuple[str, ...]
    defines: tuple[str, ...]
    ldflags: tuple[str, ...]
    libs: tuple[str, ...]
    sources: tuple[Path, ...]
    artifacts: tuple[Path, ...]
    root: Path                              # the project directory
    runtime_dir: Path                       # fwharden's runtime sources
    verify: dict[str, Any]                  # verify.json
    memory: tuple[dict[str, Any], ...]      # per-region use
    stacks: tuple[dict[str, Any], ...]      # from the stack map
    source_date_epoch: str | None = None


def digest_of(data: Any) -> str:
    """SHA-256 of canonical JSON: the same data always gives the same digest."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def portable(text: str, root: Path, runtime_dir: Path) -> str:
    """A path or flag with the machine-specific directories replaced."""
    text = text.replace(str(runtime_dir), "fwharden-runtime")
    text = text.replace(str(root) + "/", "").replace(str(root), ".")
    return text


def build_manifest(inputs: ManifestInputs) -> dict[str, Any]:
    def rel(path: Path) -> str:
        return portable(str(path), inputs.root, inputs.runtime_dir)

    def flags(values: tuple[str, ...]) -> list[str]:
        return [portable(v, inputs.root, inputs.runtime_dir) for v in values]

    findings = inputs.verify.get("findings", [])
    manifest: dict[str, Any] = {
        "schema": {"id": SCHEMA_ID, "version": SCHEMA_VERSION},
        "fwharden": {"version": __version__},
        "project": inputs.project,
        "board": {"name": inputs.board, "profile_digest": digest_of(inputs.profile)},
        "toolchain": {"kind": inputs.toolchain,
                      "tools": [{"name": name, "version": line}
                                for name, line in inputs.tool_versions]},
        "flags": {"cflags": flags(inputs.cflags), "defines": list(inputs.defines),
                  "ldflags": flags(inputs.ldflags), "libs": flags(inputs.libs)},
        "sources": sorted(({"path": rel(p), "sha256": file_sha256(p)} for p in inputs.sources),
                          key=lambda s: s["path"]),
        "artifacts": sorted(({"path": p.name, "size": p.stat().st_size,
                              "sha256": file_sha256(p)} for p in inputs.artifacts),
                            key=lambda a: a["path"]),
        "memory": list(inputs.memory),
        "stacks": list(inputs.stacks),
        "interrupts": [{"vector": i["vector"], "name": i["name"], "stack": i["stack"]}
                       for i in inputs.verify.get("interrupts", [])],
        "isr_stack": inputs.verify.get("isr_stack"),
        "thread_stack": inputs.verify.get("thread_stack"),
        "findings": {
            "by_rule": dict(sorted(Counter(f["rule"] for f in findings).items())),
            "by_severity": dict(sorted(Counter(f["severity"] for f in findings).items())),
        },
        "verdict": inputs.verify.get("verdict", "fail"),
    }
    if inputs.source_date_epoch is not None:
        manifest["source_date_epoch"] = inputs.source_date_epoch
    return manifest


def manifest_schema() -> dict[str, Any]:
    text = resources.files("fwharden.harden.report").joinpath("manifest.schema.json").read_text()
    return json.loads(text)


def manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, indent=2, sort_keys=True) + "\n"
