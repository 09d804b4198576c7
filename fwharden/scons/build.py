"""`env.Firmware("firmware.toml")`: wire the pipeline stages into SCons targets.

project + board -> Profile -> Layout -> (linker script, vector table) -> objects -> ELF
-> .bin, .hex, memory-usage summary. Every stage is a call into a plain module; this file
only decides file names and dependencies, and turns stage errors into one line + exit 2.
"""

from __future__ import annotations

import atexit
import dataclasses
import glob
import hashlib
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import SCons.Script
from SCons.Action import Action

from fwharden.board_profiles import ConfigError, Profile, load_profile
from fwharden.board_profiles.project import (
    OPT_LEVELS,
    Project,
    StackOverrides,
    apply_stack_overrides,
    load_project,
)
from fwharden.board_profiles.tomlread import parse_size
from fwharden.linker import (
    build_layout,
    render_linker_script,
    render_stackmap_reservation,
    render_vector_table,
)
from fwharden.linker.vectors import vector_entries
from fwharden.runtime import include_dir, runtime_sources
from fwharden.scons import images
from fwharden.scons.actions import (
    check_handlers,
    copy_all,
    discard_manifest,
    html_report,
    patch_firmware,
    reject_failed_build,
    report_usage,
    run_in,
    run_in_qemu,
    verify_firmware,
    write_manifest,
    write_text,
)
from fwharden.toolchain import ToolchainError, build_flags, find_toolchain
from fwharden.toolchain.tinygo import missing_startup, target_json, tinygo_board, tinygo_command

# How fwharden's runtime sources are named in debug info, whatever the install path.
RUNTIME_PREFIX = "fwharden-runtime"
# Command-line ARGUMENTS the tool understands.
KNOWN_ARGS = ("board", "toolchain", "layout", "isr_size", "thread_size", "guard_size", "opt",
              "run_timeout", "size", "print_stacks", "tags", "flash_tool", "port", "gdb_port")


@dataclass(frozen=True)
class Selection:
    """What one `scons` invocation builds."""

    project: Project
    profile: Profile
    toolchain: str


def fail(message: str) -> None:
    """Report a bad input as one line and stop SCons with status 2."""
    print(f"fwharden: error: {message}", file=sys.stderr)
    SCons.Script.Exit(2)


def select(project_file: Path, args: Mapping[str, str]) -> Selection:
    """Apply the command line to the project: board, toolchain and stack overrides."""
    unknown = sorted(set(args) - set(KNOWN_ARGS))
    if unknown:
        raise ConfigError("command line", unknown[0], "unknown argument",
                          f"use one of: {', '.join(KNOWN_ARGS)}")
    project = load_project(project_file)
    board = args.get("board", project.board)
    profile = load_profile(board, project.board_dirs)
    _, stacks = project.settings_for(profile.name)
    profile = apply_stack_overrides(profile, stacks, project.path)
    cli = StackOverrides(
        isr_size=_size_arg(args, "isr_size"),
        thread_size=_size_arg(args, "thread_size"),
        guard_size=_size_arg(args, "guard_size"),
        layout=args.get("layout"),
    )
    if cli.layout is not None and cli.layout not in ("top", "flip"):
        raise ConfigError("command line", "layout", f"'{cli.layout}' is not supported",
                          "use layout=top or layout=flip")
    profile = apply_stack_overrides(profile, cli, Path("command line"), prefix="")
    if "opt" in args:
        if args["opt"] not in OPT_LEVELS:
            raise ConfigError("command line", "opt", f"'{args['opt']}' is not an -O level",
                              f"use one of: {', '.join(OPT_LEVELS)}")
        project = dataclasses.replace(project, opt=args["opt"])
    if "run_timeout" in args:
        try:
            if float(args["run_timeout"]) <= 0:
                raise ValueError
        except ValueError:
            raise ConfigError("command line", "run_timeout",
                              f"'{args['run_timeout']}' is not a positive number of seconds",
                              "write e.g. run_timeout=60") from None
    toolchain = args.get("toolchain", project.toolchain)
    if toolchain not in ("gcc", "clang", "tinygo"):
        raise ConfigError("command line", "toolchain", f"'{toolchain}' is not supported",
                          "use toolchain=gcc, toolchain=clang or toolchain=tinygo")
    return Selection(project=project, profile=profile, toolchain=toolchain)


def _size_arg(args: Mapping[str, str], key: str) -> int | None:
    if key not in args:
        return None
    value = parse_size(args[key])
    if value is None:
        raise ConfigError("command line", key, f"'{args[key]}' is not a size",
                          f"write e.g. {key}=2K")
    return value


def firmware(env, project_file: str = "firmware.toml"):
    """Declare the firmware targets for the board chosen on the command line."""
    path = Path(env.File(project_file).srcnode().abspath)
    try:
        chosen = select(path, env["FWH_ARGS"])
        profile, project = chosen.profile, chosen.project
        kind = "tinygo" if project.language == "go" else chosen.toolchain
        tools = find_toolchain(profile, kind, env["ENV"]["PATH"])
        if tools.kind == "tinygo" and project.linker == "vendor":
            raise ToolchainError("a TinyGo build uses fwharden's generated linker script; "
                                 "fix: set linker = \"generated\"")
        layout = build_layout(profile) if project.linker == "generated" else None
    except (ConfigError, ToolchainError) as exc:
        fail(str(exc))
        return None
    root = project.root
    build_dir = root / "build" / profile.name
    rel_build = os.path.relpath(build_dir, env.Dir("#").abspath)
    env["FWH_BUILD_DIR"] = rel_build
    map_file = env.File(f"{rel_build}/firmware.map")
    settings, _ = project.settings_for(profile.name)
    go = tools.kind == "tinygo"
    sources = _project_sources(root, settings.sources or (("**/*.go",) if go else ()))
    if not sources:
        fail(f"{project.path}: project.sources: no file matches "
             f"{', '.join(settings.sources)}; fix: check the globs")
        return None
    if project.linker == "vendor":
        parts = _vendor_build(env, project, settings, tools, sources, rel_build, map_file)
    elif go:
        parts = _tinygo_build(env, project, profile, tools, layout, sources, rel_build,
                              map_file)
    else:
        parts = _generated_build(env, project, profile, settings, tools, layout, sources,
                                 rel_build, map_file)
    if parts is None:
        return None
    objects, linked, script_node, extra_sources = parts
    env.SideEffect(map_file, linked)
    env.Clean(linked, map_file)
    verified = env.Command(
        [f"{rel_build}/verify.json", f"{rel_build}/findings.sarif", f"{rel_build}/verify.txt"],
        linked, Action(verify_firmware, "Verify $SOURCE"), FWH_PROFILE=profile, FWH_POLICY=project.harden)
    if project.linker == "vendor":
        elf = linked  # the project's own linker script reserves no stack map
    else:
        elf = env.Command(f"{rel_build}/firmware.elf", [linked, verified[0]],
                          Action(patch_firmware, "Stack map $TARGET"))
    binary = images.app_image(env, profile, elf, rel_build) or env.Command(
        f"{rel_build}/firmware.bin", elf,
        Action("$FWH_OBJCOPYCOM", "$FWH_OBJCOPYCOMSTR"), FWH_OBJCOPY_FORMAT="binary")
    ihex = env.Command(f"{rel_build}/firmware.hex", elf,
                       Action("$FWH_OBJCOPYCOM", "$FWH_OBJCOPYCOMSTR"), FWH_OBJCOPY_FORMAT="ihex")
    boot_images = images.image_artifacts(env, profile, elf, rel_build)
    usage = env.Command(f"{rel_build}/memory-usage.txt", elf,
                        Action(report_usage, "Memory usage $TARGET"), FWH_PROFILE=profile)
    # The regions come from the profile, not the ELF: a changed map must redo the table.
    env.Depends(usage, env.Value(repr(profile.memory)))
    # The report depends on the policy, the .su frame sizes written with the objects, and
    # the analysis code itself (a newer fwharden must not keep an old verdict).
    env.Depends(verified, [env.Value(repr(project.harden)), env.Value(repr(profile)), objects,
                           env.Value(_tool_fingerprint())])
    report = env.Command(f"{rel_build}/report.html", [elf, verified[0]],
                         Action(html_report, "HTML report $TARGET"), FWH_PROFILE=profile,
                         FWH_PROJECT_NAME=project.name)
    artifacts = [elf[0], binary[0], ihex[0], *boot_images, map_file, report[0], *verified,
                 usage[0], script_node[0]]
    # Any step that makes an artifact first removes manifest.json (written last): a build
    # stopped anywhere never leaves an old manifest beside new files.
    env.AddPreAction([*dict.fromkeys([linked[0], *(a for a in artifacts if a is not map_file)])],
                     Action(discard_manifest, None))
    sources_for_manifest = [env.File(str(p)) for p in sources] + list(extra_sources)
    manifest = env.Command(
        f"{rel_build}/manifest.json", [*artifacts, *sources_for_manifest],
        Action(write_manifest, "Manifest $TARGET"),
        FWH_PROFILE=profile, FWH_PROJECT_NAME=project.name, FWH_TOOLS=tools,
        FWH_FLAGS=(tuple(env["CCFLAGS"]), tuple(env["CPPDEFINES"]), tuple(env["LINKFLAGS"]),
                   tuple(env["FWH_LIBS"])),
        FWH_ROOT=str(root), FWH_ARTIFACT_COUNT=len(artifacts), FWH_POLICY=project.harden)
    # Any failed step: no firmware.elf/.bin/.hex that looks current (actions.py).
    atexit.register(reject_failed_build, build_dir)
    dist_dir = root / "dist" / f"{project.name}-{profile.name}"
    shipped = [*artifacts, manifest[0]]
    dist = env.Command([str(dist_dir / Path(str(node)).name) for node in shipped], shipped,
                       Action(copy_all, "Dist $TARGET.dir"))
    env.Alias("dist", dist)
    env.Clean(dist, str(dist_dir))
    cdb = env.CompilationDatabase(str(root / "compile_commands.json"))
    targets = [*dict.fromkeys([linked[0], elf[0]]), binary, ihex, *boot_images, usage, verified,
               report, manifest, cdb]
    if profile.qemu is not None:
        timeout = float(env["FWH_ARGS"].get("run_timeout", 30))
        run = env.Alias("run", elf, Action(run_in_qemu, "Run $SOURCE in QEMU"), FWH_PROFILE=profile,
                        FWH_RUN_TIMEOUT=timeout)
        env.AlwaysBuild(run)
    from fwharden.scons import flash
    flash.declare(env, profile, elf, manifest)
    if env.GetOption("clean"):
        # `scons -c` removes files; the directories they leave behind go after it.
        atexit.register(_remove_empty_dirs, build_dir)
    env.Default(targets)
    return targets


def _use_toolchain(env, tools, *, cflags: list[str], asflags: list[str], defines: list[str],
                   include_dirs: list[str], linkflags: list[str], libs: list[str]) -> None:
    """Point SCons's C, assembler and link variables at the selected toolchain."""
    env.Replace(
        CC=str(tools.cc),
        AS=str(tools.cc),
        ASPP=str(tools.cc),
        LINK=str(tools.linker),
        FWH_OBJCOPY=str(tools.objcopy),
        CCFLAGS=cflags,
        ASFLAGS=[*asflags, "-c"],
        ASPPFLAGS=asflags,
        CPPDEFINES=defines,
        CPPPATH=include_dirs,
        LINKFLAGS=linkflags,
        FWH_LIBS=libs,
        LINKCOM="$FWH_LINKCOM",
        LINKCOMSTR="$FWH_LINKCOMSTR",
    )


def _compile_all(env, sources: list[Path], base: Path, into: str) -> list:
    """Objects for `sources` under build/<board>/<into>/, mirroring their paths."""
    objects = []
    for source in sources:
        rel = source.relative_to(base)
        objects += _compile(env, source, f"{into}/{rel.with_suffix('.o')}")
    return objects


def _generated_build(env, project: Project, profile: Profile, settings, tools, layout,
                     sources: list[Path], rel_build: str, map_file):
    """fwharden's linker script, vector table and runtime around the project's sources."""
    root = project.root
    script = env.File(f"{rel_build}/{profile.name}.ld")
    try:
        flags = build_flags(profile, tools.kind, opt=project.opt, libc=project.libc,
                            linker_script=script.path, map_file=map_file.path,
                            libgcc=str(tools.libgcc) if tools.libgcc else None,
                            prefix_maps=((str(include_dir()), RUNTIME_PREFIX),
                                         (str(root), ".")))
    except ToolchainError as exc:
        fail(str(exc))
        return None
    _use_toolchain(env, tools, cflags=[*flags.cflags, *settings.cflags],
                   asflags=[*flags.asflags, *settings.asflags],
                   defines=[*flags.defines, *settings.defines],
                   include_dirs=[str(root / d) for d in settings.include_dirs] + [
                       str(include_dir())],
                   linkflags=[*flags.ldflags, *settings.ldflags],
                   libs=[*flags.libs, *settings.libs])
    script_node = env.Command(script, env.Value(render_linker_script(layout)),
                              Action(write_text, "Linker script $TARGET"))
    vectors = env.Command(f"{rel_build}/gen/fwh_vectors.c",
                          env.Value(render_vector_table(layout)),
                          Action(write_text, "Vector table $TARGET"))
    objects = _compile_all(env, sources, root, f"{rel_build}/obj")
    # The project's objects, for the check that every handler it defines is installed.
    own = tuple((o.abspath, str(s), os.path.relpath(s, root))
                for o, s in zip(objects, sources, strict=True))
    runtime = runtime_sources(profile.cpu.family, profile.console.setup)
    objects += _compile_all(env, runtime, include_dir(), f"{rel_build}/obj/fwharden")
    objects += _compile(env, vectors[0], f"{rel_build}/obj/gen/fwh_vectors.o")
    objects += images.boot2_objects(env, profile, rel_build)
    # The linker's output; firmware.elf is this file with the stack map filled in.
    linked = env.Program(f"{rel_build}/firmware.unpatched.elf", objects)
    env.AddPreAction(linked, Action(check_handlers, None))
    env["FWH_HANDLER_OBJECTS"] = own
    env["FWH_VECTOR_NAMES"] = tuple(h for h in vector_entries(profile) if h)
    env.Depends(linked, script_node)
    extra = [env.File(str(p)) for p in runtime] + [vectors[0]]
    return objects, linked, script_node, extra


def _tinygo_build(env, project: Project, profile: Profile, tools, layout, sources: list[Path],
                  rel_build: str, map_file):
    """`tinygo build` with a target JSON that mirrors TinyGo's board target (core target,
    board and chip tags, serial, the chip's vector table) and points at fwharden's linker
    script (TinyGo mode), stack-map reservation and map file."""
    try:
        tinygo_board(profile)
        missing = missing_startup(profile, tools.root)
    except ToolchainError as exc:
        fail(str(exc))
        return None
    if missing is not None:
        fail(f"{missing}: TinyGo's device file for board {profile.name} is not there; fix: "
             "install a TinyGo release build (its device files are generated)")
        return None
    script = env.File(f"{rel_build}/{profile.name}-tinygo.ld")
    reservation = env.File(f"{rel_build}/gen/fwh_stackmap.c")
    target = env.File(f"{rel_build}/fwharden-{profile.name}.json")
    script_node = env.Command(script, env.Value(render_linker_script(
        layout, tinygo=True, vector_entries=tinygo_board(profile).vector_entries)),
                              Action(write_text, "Linker script $TARGET"))
    stackmap_c = env.Command(reservation, env.Value(render_stackmap_reservation(layout)),
                             Action(write_text, "Stack map reservation $TARGET"))
    target_node = env.Command(target, env.Value(target_json(
        profile, script.abspath, [reservation.abspath], map_file=map_file.abspath,
        tinygo_root=tools.root)), Action(write_text, "TinyGo target $TARGET"))
    output = env.File(f"{rel_build}/firmware.unpatched.elf")
    args = env["FWH_ARGS"]
    opt = project.opt if project.opt in ("0", "1", "2", "s", "z") else "z"
    tags = tuple(args.get("tags", "").replace(",", " ").split())
    command = tinygo_command(tools.cc, target.abspath, output.abspath, ".", opt=opt,
                             size="size" in args, print_stacks="print_stacks" in args,
                             tags=tags)
    # What the manifest records for a C build, in TinyGo's terms: the build flags, the
    # build tags (Go's defines: they select the code), the linker flags the target adds.
    env.Replace(FWH_OBJCOPY=str(tools.objcopy),
                CCFLAGS=[f"-target={target.abspath}", f"-opt={opt}",
                         *([f"-tags={' '.join(tags)}"] if tags else [])],
                CPPDEFINES=["fwharden", *tinygo_board(profile).tags, *tags],
                LINKFLAGS=["-T", script.abspath, f"-Map={map_file.abspath}"], FWH_LIBS=[])
    linked = env.Command(output, sources, Action(
        lambda target, source, env: run_in(command, project.root), " ".join(command)))
    env.Depends(linked, [script_node, stackmap_c, target_node, env.Value(" ".join(command))])
    return [], linked, script_node, [stackmap_c[0], target_node[0]]


def _vendor_build(env, project: Project, settings, tools, sources: list[Path], rel_build: str,
                  map_file):
    """The project's own start-up code and linker script, with its own flags word for word
    (so it is the firmware make built); only -fstack-usage is added, for verify."""
    if tools.kind != "gcc":
        fail(f"{project.path}: project.linker: vendor mode builds with the project's gcc flags; "
             "fix: use toolchain=gcc, or linker = \"generated\"")
        return None
    root = project.root
    script = env.File(str(root / project.linker_script))
    cflags = [*settings.cflags, f"-O{project.opt}"]
    if "-fstack-usage" not in cflags:
        cflags.append("-fstack-usage")
    _use_toolchain(env, tools, cflags=cflags, asflags=list(settings.asflags),
                   defines=list(settings.defines),
                   include_dirs=[str(root / d) for d in settings.include_dirs],
                   linkflags=[*settings.ldflags, "-T", script.path, f"-Wl,-Map={map_file.path}"],
                   libs=list(settings.libs))
    objects = _compile_all(env, sources, root, f"{rel_build}/obj")
    linked = env.Program(f"{rel_build}/firmware.elf", objects)
    env.Depends(linked, script)
    return objects, linked, [script], []


def _tool_fingerprint() -> str:
    """SHA-256 over fwharden's own Python sources."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _project_sources(root: Path, patterns: tuple[str, ...]) -> list[Path]:
    """Files matching the project's globs: in the order of the patterns (an imported
    Makefile's link order), each glob's matches sorted, so the link is reproducible."""
    found: dict[Path, None] = {}
    for pattern in patterns:
        for match in sorted(glob.glob(str(root / pattern), recursive=True)):
            if Path(match).is_file():
                found.setdefault(Path(match), None)
    return list(found)


def _compile(env, source, target: str) -> list:
    """Compile one source; its .su stack-usage file is a side output that -c cleans."""
    nodes = env.Object(target, source if not isinstance(source, Path) else str(source))
    stack_usage = env.File(str(Path(target).with_suffix(".su")))
    env.SideEffect(stack_usage, nodes)
    env.Clean(nodes, stack_usage)
    return nodes


def _remove_empty_dirs(top: Path) -> None:
    """Remove `top` and its subdirectories, bottom-up, where they are empty."""
    if not top.is_dir():
        return
    for directory in sorted((p for p in top.rglob("*") if p.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
    if not any(top.iterdir()):
        top.rmdir()
        if not any(top.parent.iterdir()):
            top.parent.rmdir()
