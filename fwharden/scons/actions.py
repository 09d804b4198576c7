"""The Python actions of the fwharden SCons tool: each runs one stage on the files SCons
hands it and writes its target through a temporary file. Stage logic lives in the plain
modules; these functions only read, call and write, and report failures as one line.
"""

from __future__ import annotations

import atexit
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from fwharden.atomic import write_atomically
from fwharden.board_profiles import ConfigError, Profile
from fwharden.board_profiles.describe import profile_to_dict
from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.errors import HardenError
from fwharden.runner import EXIT_TIMEOUT, RunError, run_firmware
from fwharden.runtime import include_dir
from fwharden.scons.variables import is_true

# NOTE: the post-link modules (pyelftools, capstone, LIEF) are imported inside the actions
# that use them: every `scons` run, even a no-op one, reads this file.


MANIFEST = "manifest.json"


def discard_manifest(target, source, env) -> int:
    """SCons pre-action of every step that makes an artifact: remove the manifest.json
    beside its target first. The manifest step runs last, so a build stopped at any
    point (SIGKILL between the link and the manifest left the old manifest beside a new
    ELF in 9 of 55 kills) has either no manifest or one that describes the files it
    lists."""
    for node in target:
        (Path(str(node)).parent / MANIFEST).unlink(missing_ok=True)
    return 0


def write_text(target, source, env) -> int:
    """SCons action: write the text carried by the Value source node to the target file."""
    write_atomically(Path(str(target[0])), source[0].read())
    return 0


def report_usage(target, source, env) -> int:
    """SCons action: memory use per region, written to the target and printed."""
    from fwharden.harden.elf.cache import ImageCache
    from fwharden.harden.report.usage import describe_usage, region_usage
    profile: Profile = env["FWH_PROFILE"]
    # One ImageCache per environment: the build's steps share each parsed ELF.
    images = ImageCache.shared(env)
    try:
        table = describe_usage(region_usage(images.load(Path(str(source[0]))), profile))
    except HardenError as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return 1
    write_atomically(Path(str(target[0])), table)
    print(f"Memory use of {source[0]} ({profile.name}):\n{table}", end="")
    return 0


def check_handlers(target, source, env) -> int:
    """SCons pre-link action (generated mode): a function of the project named like a
    handler that no vector of the board installs fails the build, with the vector it was
    probably meant to be (uninstalled.py)."""
    from fwharden.harden.analysis.uninstalled import scan_objects, source_line
    objects = env["FWH_HANDLER_OBJECTS"]
    found = scan_objects([(Path(obj), rel) for obj, _src, rel in objects], env["FWH_VECTOR_NAMES"])
    sources = {rel: Path(src) for _obj, src, rel in objects}
    for miss in found:
        line = source_line(sources[miss.file], miss.name) if miss.file in sources else None
        where = f"{miss.file}:{line}" if line else f"{miss.file}"
        print(f"fwharden: error: {where}: {miss.message}; fix: give it the vector's name "
              "(fwharden board show lists them), or call it from a handler", file=sys.stderr)
    return 2 if found else 0


# The verify step's decode cache, in the board's build directory.
VERIFY_CACHE = ".fwh-verify-cache"


def verify_firmware(target, source, env) -> int:
    """SCons action: prove the linked ELF safe in interrupt context; write JSON, SARIF, text."""
    from fwharden.harden.analysis.policy import should_fail
    from fwharden.harden.analysis.run import verify_elf
    from fwharden.harden.elf.cache import ImageCache
    from fwharden.harden.report.json import json_text, to_json
    from fwharden.harden.report.sarif import sarif_text, to_sarif
    from fwharden.harden.report.text import describe_report
    profile: Profile = env["FWH_PROFILE"]
    policy: HardenPolicy = env["FWH_POLICY"]
    elf = Path(str(source[0]))
    # The build's own .su files: the emitter's targets, given as verify's other sources
    # (or FWH_SU_FILES), never a walk of the build directory, where a deleted source's .su
    # may remain. Called without either, the build's own object directory.
    su_files = [Path(str(node)) for node in source[1:] if str(node).endswith(".su")]
    if len(source) == 1:
        su_files = [Path(str(p)) for p in env.get("FWH_SU_FILES", ())] or \
            sorted((elf.parent / "obj").rglob("*.su"))
    images = ImageCache.shared(env)
    try:
        # Each function's decode is kept beside the build (decode_cache.py), so a relink
        # after a small change decodes only what changed; the result is the same.
        result = verify_elf(elf, profile, policy, su_files=su_files, image=images.load(elf),
                            cache=elf.parent / VERIFY_CACHE)
    except HardenError as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return 2
    report = describe_report(result)
    write_atomically(Path(str(target[0])), json_text(to_json(result)))
    sarif = to_sarif(result, located_in_build(result, elf, profile, env))
    write_atomically(Path(str(target[1])), sarif_text(sarif))
    write_atomically(Path(str(target[2])), report)
    print(report if is_true(env.get("FWH_VERBOSE", "0")) else console_summary(report), end="")
    if should_fail(result, policy):
        # Not a failed action yet: the report and the manifest are made for this build too
        # and say FAIL; the manifest step fails the build and renames the firmware.
        print(f"fwharden: error: {elf}: interrupt-safety check failed (policy fail_on = "
              f"\"{policy.fail_on}\"); see {target[2]}", file=sys.stderr)
    return 0


# The files a person or a flash tool takes as the firmware. A rejected build keeps them
# only as firmware.rejected.<ext>, so nothing named firmware.elf/.bin/.hex is ever old or
# failed (issue 15: an old .bin beside a failed build got flashed).
FLASHABLE = ("firmware.elf", "firmware.bin", "firmware.hex", "firmware.uf2")


def rejected_name(path: Path) -> Path:
    return path.with_name(path.name.replace("firmware.", "firmware.rejected.", 1))


def fails_build(verify: dict, policy: HardenPolicy) -> bool:
    """True when verify's findings fail the build under `policy.fail_on` (the one
    decision, harden.analysis.policy.fails_on, also behind `fwharden verify`)."""
    from fwharden.harden.analysis.policy import fails_on
    return fails_on((f.get("severity") for f in verify.get("findings", [])), policy)


def build_verdict(verify: dict, policy: HardenPolicy | None) -> dict:
    """verify.json as the build's report and manifest show it: FAIL also when only
    warnings fail the build (fail_on = "warning"), so a rejected build never says PASS."""
    if policy is not None and verify.get("verdict") == "pass" and fails_build(verify, policy):
        return {**verify, "verdict": "fail"}
    return verify


def reject_firmware(build_dir: Path) -> list[Path]:
    """Rename the flashable files of `build_dir` to firmware.rejected.*; the new names."""
    moved = []
    for name in FLASHABLE:
        path = build_dir / name
        if path.is_file():
            os.replace(path, rejected_name(path))
            moved.append(rejected_name(path))
    return moved


def manifest_matches(build_dir: Path) -> bool:
    """True when manifest.json lists exactly the files beside it (size and SHA-256)."""
    from fwharden.inputs import file_sha256
    try:
        data = json.loads((build_dir / MANIFEST).read_text())
        for item in data["artifacts"]:
            path = build_dir / item["path"]
            if not path.is_file() or path.stat().st_size != item["size"] or \
                    file_sha256(path) != item["sha256"]:
                return False
    except (OSError, ValueError, KeyError, TypeError):
        return False
    return True


def reject_failed_build(build_dir: Path) -> None:
    """At the end of a `scons` run (atexit): when any step for `build_dir` failed, no
    flashable file is left under its usual name, and a manifest that no longer describes
    the files beside it (from an earlier build) is removed."""
    import SCons.Script
    failures = SCons.Script.GetBuildFailures()
    inside = str(build_dir.resolve()) + os.sep
    if not any(str(Path(str(f.node)).resolve()).startswith(inside) for f in failures
               if f.node is not None):
        return
    moved = reject_firmware(build_dir)
    manifest = build_dir / MANIFEST
    if manifest.exists() and not manifest_matches(build_dir):
        manifest.unlink()
    if moved:
        print(f"fwharden: build failed; kept as {', '.join(p.name for p in moved)} "
              "(not for flashing)", file=sys.stderr)


def located_in_build(result, elf: Path, profile: Profile, env):
    """Where SARIF names the findings: relative to the project (build/<board>/ is two
    levels below it), stacks at their definition in the generated linker script."""
    from fwharden.harden.report.locations import project_for
    root = Path(env.get("FWH_ROOT") or elf.parent.parent.parent)
    script = elf.parent / f"{profile.name}.ld"
    config = root / "firmware.toml"
    return project_for(result, elf, root, script if script.is_file() else None,
                       config if config.is_file() else None)


def console_summary(report: str) -> str:
    """What a short build prints of verify's report: the stack margins, the findings and
    the verdict (verify.txt has all of it, VERBOSE=1 prints all of it)."""
    blocks = report.rstrip("\n").split("\n\n")
    return "\n\n".join(blocks[2:]) + "\n" if len(blocks) > 2 else report


def patch_firmware(target, source, env) -> int:
    """SCons action: fill the stack map of the linked ELF (with verify's worst cases)."""
    from fwharden.harden.elf.cache import ImageCache
    from fwharden.harden.faults.stackmap import WorstCase, patch_stackmap
    linked, report = Path(str(source[0])), Path(str(source[1]))
    try:
        data = json.loads(report.read_text())
        worst = {}
        for name, key in (("isr", "isr_stack"), ("thread", "thread_stack")):
            check = data.get(key)
            if check:
                worst[name] = WorstCase(check["worst_case"], check["kind"] == "at_least",
                                        check["kind"] == "unbounded")
        images = ImageCache.shared(env)
        patch_stackmap(linked, Path(str(target[0])), images.load(linked), worst)
    except HardenError as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return 2
    return 0


def html_report(target, source, env) -> int:
    """SCons action: the self-contained HTML report."""
    from fwharden.harden.elf.cache import ImageCache
    from fwharden.harden.report.html import render_html
    from fwharden.harden.report.symbols import region_symbols, symbols_to_dict
    from fwharden.harden.report.usage import placed_sections, region_usage
    profile: Profile = env["FWH_PROFILE"]
    elf = Path(str(source[0]))
    try:
        verify = build_verdict(json.loads(Path(str(source[1])).read_text()),
                               env.get("FWH_POLICY"))
        images = ImageCache.shared(env)
        image = images.load(elf)
        usage = region_usage(image, profile)
        sections = [dataclasses.asdict(s) for s in placed_sections(image)]
        stacks = stack_spans(image)
        symbols = symbols_to_dict(region_symbols(image, profile, 10,
                                                 {u.name: u.used for u in usage}))
    except HardenError as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return 2
    regions = [usage_row(u) for u in usage]
    write_atomically(Path(str(target[0])), render_html(env["FWH_PROJECT_NAME"], profile.name,
                                                       verify, regions, sections, stacks,
                                                       symbols))
    return 0


def usage_row(usage) -> dict:
    return {"region": usage.name, "origin": usage.origin, "length": usage.length,
            "used": usage.used, "percent": round(usage.percent, 2)}


def stack_spans(image) -> list[dict]:
    """The stacks fwharden's linker script laid out; none for a vendor linker script."""
    from fwharden.harden.faults.stackmap import stack_entries
    rows = []
    if "__fwh_isr_stack_start" not in image.symbols:
        return rows
    for entry in stack_entries(image):
        rows.append({"name": entry.name,
                     "stack": {"start": entry.base, "size": entry.size},
                     "guard": {"start": entry.guard_base, "size": entry.guard_size},
                     "watermark": {"start": entry.watermark_base, "size": entry.watermark_size},
                     "mirror": {"start": entry.mirror, "size": entry.mirror_size}})
    return rows


def write_manifest(target, source, env) -> int:
    """SCons action: manifest.json over the artifacts (first sources) and the sources."""
    from fwharden.harden.elf.cache import ImageCache
    from fwharden.harden.report.manifest import ManifestInputs, build_manifest, manifest_text
    from fwharden.harden.report.usage import region_usage
    profile: Profile = env["FWH_PROFILE"]
    count = env["FWH_ARTIFACT_COUNT"]
    files = [Path(str(node)) for node in source]
    artifacts, sources = files[:count], files[count:]
    elf = artifacts[0]
    cflags, defines, ldflags, libs = env["FWH_FLAGS"]
    images = ImageCache.shared(env)
    try:
        image = images.load(elf)
        inputs = ManifestInputs(
            project=env["FWH_PROJECT_NAME"], board=profile.name,
            profile=profile_to_dict(profile), toolchain=env["FWH_TOOLS"].kind,
            tool_versions=env["FWH_TOOLS"].versions, cflags=cflags, defines=defines,
            ldflags=ldflags, libs=libs, sources=tuple(sources), artifacts=tuple(artifacts),
            root=Path(env["FWH_ROOT"]), runtime_dir=include_dir(),
            verify=json.loads(next(p for p in artifacts if p.name == "verify.json").read_text()),
            memory=tuple(usage_row(u) for u in region_usage(image, profile)),
            stacks=tuple(stack_spans(image)),
            source_date_epoch=os.environ.get("SOURCE_DATE_EPOCH"))
    except HardenError as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return 2
    out = Path(str(target[0]))
    policy: HardenPolicy | None = env.get("FWH_POLICY")
    failed = policy is not None and fails_build(inputs.verify, policy)
    if failed:
        # The manifest of a rejected build lists the firmware under the names it now has.
        reject_firmware(out.parent)
        renamed = tuple(rejected_name(p) if p.name in FLASHABLE else p for p in artifacts)
        inputs = dataclasses.replace(inputs, artifacts=renamed,
                                     verify=build_verdict(inputs.verify, policy))
    else:
        for name in FLASHABLE:  # a rejected firmware of an earlier build is not this one
            rejected_name(out.parent / name).unlink(missing_ok=True)
    write_atomically(out, manifest_text(build_manifest(inputs)))
    if failed:
        print(f"fwharden: error: {out.parent}: build rejected by verify (fail_on = "
              f"\"{policy.fail_on}\"); the firmware is kept as firmware.rejected.* only",
              file=sys.stderr)
        return 1
    return 0


def copy_all(target, source, env) -> int:
    """SCons action: copy each source to its target, each through a temporary name; a
    manifest is removed first and copied last, so the copy is never half old, half new
    behind a manifest that looks finished."""
    pairs = list(zip(source, target, strict=True))
    pairs.sort(key=lambda pair: Path(str(pair[1])).name == MANIFEST)  # the manifest last
    for _, dst in pairs:
        if Path(str(dst)).name == MANIFEST:
            Path(str(dst)).unlink(missing_ok=True)
    for src, dst in pairs:
        write_atomically(Path(str(dst)), Path(str(src)).read_bytes())
    return 0


def run_in_qemu(target, source, env) -> int:
    """SCons action for `scons run`: the firmware's exit status becomes scons's.

    SCons reports any failed action as status 2, so the status is kept and the process
    ends with it once SCons has finished and saved its state (atexit, after sys.exit).
    """
    profile: Profile = env["FWH_PROFILE"]
    try:
        status = run_firmware(profile, Path(str(source[0])), env["FWH_RUN_TIMEOUT"])
    except (RunError, ConfigError) as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        status = EXIT_TIMEOUT
    if status != 0:
        print(f"fwharden: firmware exited with status {status}", file=sys.stderr)
        atexit.register(exit_with, status)
    return 0


def exit_with(status: int) -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def run_in(command: list[str], cwd: Path, extra_env: dict[str, str] | None = None) -> int:
    env = {**os.environ, **extra_env} if extra_env else None
    return subprocess.run(command, cwd=cwd, check=False, env=env).returncode
