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

import SCons.Defaults
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
from fwharden.scons.actions import VERIFY_CACHE, check_handlers, discard_manifest, reject_failed_build, run_in
from fwharden.scons.builders import compile_db_key
from fwharden.scons.cmdline import (
    Word,
    check_defines,
    check_file_name,
    check_words,
    literal,
)
from fwharden.scons.output import RUNTIME_PREFIX
from fwharden.scons.variables import ARGUMENTS, is_true
from fwharden.toolchain import ToolchainError, build_flags, find_toolchain
from fwharden.toolchain.tinygo import (
    go_workspace,
    missing_startup,
    target_json,
    tinygo_board,
    tinygo_command,
)

# Command-line ARGUMENTS the tool understands (variables.py has their help).
KNOWN_ARGS = tuple(arg.name for arg in ARGUMENTS)


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


def command_line(env) -> tuple[dict[str, str], list[str]]:
    """The arguments given on the command line (by their command-line names) and the
    unknown ones, from the `$FWH_<NAME>` variables `tool.generate` filled in."""
    given = {arg.name: str(env[arg.key]) for arg in ARGUMENTS
             if env.get(arg.key) not in (None, "")}
    return given, list(env.get("FWH_UNKNOWN_ARGS", []))


def select(project_file: Path, args: Mapping[str, str],
           unknown: list[str] | None = None) -> Selection:
    """Apply the command line to the project: board, toolchain and stack overrides."""
    unknown = sorted(unknown if unknown is not None else set(args) - set(KNOWN_ARGS))
    if unknown:
        raise ConfigError("command line", unknown[0], "unknown argument",
                          f"use one of: {', '.join(KNOWN_ARGS)}")
    for name in ("VERBOSE", "size", "print_stacks", "irq_cycles"):
        if name in args and is_true(args[name]) is None:
            raise ConfigError("command line", name, f"'{args[name]}' is not 0 or 1",
                              f"write {name}=1 or {name}=0")
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
            if not 0 < float(args["run_timeout"]) < float("inf"):
                raise ValueError
        except ValueError:
            raise ConfigError("command line", "run_timeout",
                              f"'{args['run_timeout']}' is not a positive number of seconds",
                              "write e.g. run_timeout=60") from None
    if "irq_cycles" in args:
        project = dataclasses.replace(project, irq_cycles=bool(is_true(args["irq_cycles"])))
    toolchain = args.get("toolchain", project.toolchain)
    if toolchain not in ("gcc", "clang", "tinygo"):
        raise ConfigError("command line", "toolchain", f"'{toolchain}' is not supported",
                          "use toolchain=gcc, toolchain=clang or toolchain=tinygo")
    if project.irq_cycles and (toolchain == "tinygo" or project.language == "go"
                               or project.linker == "vendor"):
        raise ConfigError(project.path, "runtime.irq_cycles", "needs fwharden's vector "
                          "table and runtime (a C build with linker = \"generated\")",
                          "remove irq_cycles, or build with irq_cycles=0")
    _check_names(project, profile)
    return Selection(project=project, profile=profile, toolchain=toolchain)


def _check_names(project: Project, profile: Profile) -> None:
    """Names that become paths, and the words that reach a command line."""
    check_file_name(project.path, "project.name", project.name)
    check_file_name(profile.source, "name", profile.name)
    settings, _ = project.settings_for(profile.name)
    check_defines(project.path, "defines", settings.defines)
    for key in ("sources", "include_dirs", "cflags", "asflags", "ldflags", "libs", "defines"):
        check_words(project.path, key, getattr(settings, key))


def _size_arg(args: Mapping[str, str], key: str) -> int | None:
    if key not in args:
        return None
    value = parse_size(args[key])
    if value is None:
        raise ConfigError("command line", key, f"'{args[key]}' is not a size",
                          f"write e.g. {key}=2K")
    return value


class Steps:
    """The build's steps, counted for the `[ n/N]` of the short output."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, nodes):
        self.count += 1
        return nodes


def firmware(env, project_file: str = "firmware.toml", build_dir: str | None = None):
    """Declare the firmware targets for the board chosen on the command line.

    `build_dir` (default `build` next to firmware.toml) holds one directory per board;
    compile_commands.json and dist/ go next to the SConstruct.
    """
    if env.GetOption("help"):
        return []  # `scons -h` lists the arguments; it needs no valid project
    path = Path(env.fs.File(project_file).srcnode().abspath)
    args, unknown = command_line(env)
    try:
        chosen = select(path, args, unknown)
        profile, project = chosen.profile, chosen.project
        kind = "tinygo" if project.language == "go" else chosen.toolchain
        tools = find_toolchain(profile, kind, env["ENV"]["PATH"])
        if tools.kind == "tinygo" and project.linker == "vendor":
            raise ToolchainError("a TinyGo build uses fwharden's generated linker script; "
                                 "fix: set linker = \"generated\"")
        layout = build_layout(profile) if project.linker == "generated" else None
    except (ConfigError, ToolchainError) as exc:
        if env.GetOption("clean"):
            return _clean_without_project(env, path, args, build_dir, exc)
        fail(str(exc))
        return None
    root = project.root
    top = Path(env.Dir("#").abspath)
    board_dir = (Path(build_dir) if build_dir else root / "build") / profile.name
    board_dir = board_dir if board_dir.is_absolute() else top / board_dir
    rel_build = os.path.relpath(board_dir, top)
    env["FWH_BUILD_DIR"] = rel_build
    step = Steps()
    map_file = env.fs.File(f"{board_dir}/firmware.map")
    settings, _ = project.settings_for(profile.name)
    go = tools.kind == "tinygo"
    sources = _project_sources(root, settings.sources or (("**/*.go",) if go else ()))
    if not sources:
        fail(f"{project.path}: project.sources: no file matches "
             f"{', '.join(settings.sources)}; fix: check the globs")
        return None
    if project.linker == "vendor":
        parts = _vendor_build(env, step, project, settings, tools, sources, board_dir, map_file)
    elif go:
        parts = _tinygo_build(env, step, project, profile, tools, layout, sources, board_dir,
                              map_file)
    else:
        parts = _generated_build(env, step, project, profile, settings, tools, layout, sources,
                                 board_dir, map_file)
    if parts is None:
        return None
    compiled, stack_usage, linked, script_node, extra_sources = parts
    objects = [obj for obj, _ in compiled]
    # verify reads the .su files of this build's objects and no others: a stale one left
    # by a deleted source is not among them.
    verified = step(env.FwhVerify(env.fs.File(f"{board_dir}/verify.json"),
                                  [linked[0], *stack_usage],
                                  FWH_PROFILE=profile, FWH_POLICY=project.harden,
                                  FWH_ROOT=str(root)))
    # The verify step's decode cache (actions.VERIFY_CACHE) goes with `scons -c` too.
    env.Clean(verified, str(Path(str(board_dir)) / VERIFY_CACHE))
    if project.linker == "vendor":
        elf = linked[:1]  # the project's own linker script reserves no stack map
    else:
        elf = step(env.FwhStackMap(env.fs.File(f"{board_dir}/firmware.elf"),
                                   [linked[0], verified[0]]))
    # An ESP chip's bootloader takes its own app image as firmware.bin (images.py).
    binary = step(images.app_image(env, profile, elf, rel_build) or env.FwhObjcopy(
        env.fs.File(f"{board_dir}/firmware.bin"), elf, FWH_OBJCOPY_FORMAT="binary"))
    ihex = step(env.FwhObjcopy(env.fs.File(f"{board_dir}/firmware.hex"), elf,
                               FWH_OBJCOPY_FORMAT="ihex"))
    boot_images = images.image_artifacts(env, profile, elf, rel_build)
    step.count += len(boot_images)
    usage = step(env.FwhUsage(env.fs.File(f"{board_dir}/memory-usage.txt"), elf,
                              FWH_PROFILE=profile))
    # The regions come from the profile, not the ELF: a changed map must redo the table.
    env.Depends(usage, env.Value(repr(profile.memory)))
    # The report depends on the policy, the .su frame sizes (its sources), the objects
    # (a vendor build's assembler frames) and the analysis code itself (a newer fwharden
    # must not keep an old verdict).
    env.Depends(verified, [env.Value(repr(project.harden)), env.Value(repr(profile)), objects,
                           env.Value(_tool_fingerprint())])
    report = step(env.FwhReport(env.fs.File(f"{board_dir}/report.html"), [elf[0], verified[0]],
                                FWH_PROFILE=profile, FWH_PROJECT_NAME=project.name,
                                FWH_POLICY=project.harden))
    artifacts = [elf[0], binary[0], ihex[0], *boot_images, map_file, report[0], *verified,
                 usage[0], script_node[0]]
    # Any step that makes an artifact first removes manifest.json (written last): a build
    # stopped anywhere never leaves an old manifest beside new files.
    env.AddPreAction([*dict.fromkeys([linked[0], *(a for a in artifacts if a is not map_file)])],
                     Action(discard_manifest, None))
    # SCons deletes a target before its step's actions (pre-actions included) run, so a kill
    # in between left the old manifest beside a deleted firmware.map/.elf. Precious keeps the
    # old file until the step's own action replaces it, after the manifest is gone (`scons -c`
    # still removes them).
    env.Precious([*dict.fromkeys([linked[0], *artifacts])])
    sources_for_manifest = [env.fs.File(str(p)) for p in sources] + list(extra_sources)
    manifest = step(env.FwhManifest(
        env.fs.File(f"{board_dir}/manifest.json"), [*artifacts, *sources_for_manifest],
        FWH_PROFILE=profile, FWH_PROJECT_NAME=project.name, FWH_TOOLS=tools,
        FWH_FLAGS=env["_FWH_FLAGS"], FWH_ROOT=str(root), FWH_ARTIFACT_COUNT=len(artifacts),
        FWH_POLICY=project.harden))
    # Any failed step: no firmware.elf/.bin/.hex that looks current (actions.py).
    atexit.register(reject_failed_build, board_dir)
    dist_dir = top / "dist" / f"{project.name}-{profile.name}"
    shipped = [*artifacts, manifest[0]]
    dist = env.FwhDist([env.fs.File(str(dist_dir / Path(str(node)).name)) for node in shipped],
                       shipped)
    env.Alias("dist", dist)
    env.Clean(dist, str(dist_dir))
    cdb = step(env.FwhCompileDb(env.fs.File(str(top / "compile_commands.json")),
                                compile_db_key(env, compiled), FWH_COMPILED=compiled))
    # Absolute paths of this checkout: no use to another one through a shared cache.
    env.NoCache(cdb)
    targets = [*dict.fromkeys([linked[0], elf[0]]), binary, ihex, *boot_images, usage, verified,
               report, manifest, cdb]
    if profile.qemu is not None:
        # `run` runs what a full build makes: the firmware after every artifact is current.
        # The ELF comes first: the action runs its first source.
        run = env.Alias("run", [elf[0], *targets], Action("$FWH_RUNCOM", "$FWH_RUNCOMSTR"),
                        FWH_PROFILE=profile, FWH_RUN_TIMEOUT=float(args.get("run_timeout", 30)))
        env.AlwaysBuild(run)
    from fwharden.scons import flash
    flash.declare(env, profile, elf, manifest)
    env["_FWH_STEP"].total += step.count
    _pin_cache_dir(env, args.get("cache_dir") or os.environ.get("FWH_CACHE_DIR"))
    if env.GetOption("clean"):
        # `scons -c` removes files; the directories they leave behind go after it.
        atexit.register(_remove_empty_dirs, board_dir)
    # One alias as the default: a no-op build says one line, not one per artifact.
    env.Default(env.Alias(f"firmware-{profile.name}", targets))
    return targets


def _pin_cache_dir(env, requested: str | None) -> None:
    """Decide this environment's CacheDir now, in the main thread, as the SConstruct set it.

    NOTE: an environment without a CacheDir of its own asks SCons's DefaultEnvironment,
    which SCons creates lazily, from the build threads under -j, and that creation races
    (AttributeError from random SCons.Tool modules). So the answer is taken here: the
    environment's own `env.CacheDir(path)`, else the global `CacheDir(path)` the SConstruct
    called (it lives on the DefaultEnvironment, which then exists), else no cache. A
    CacheDir set after `env.Firmware()` on the environment still wins; a global one set
    after it is not seen, so set it before. Only then does `requested` count: the
    `cache_dir=PATH` argument or `$FWH_CACHE_DIR`, which the user asked for by name."""
    if "_CacheDir_path" in vars(env):
        return
    default = SCons.Defaults._default_env  # read, never created here
    chosen = getattr(default, "_CacheDir_path", None) if default is not None else None
    env.CacheDir(chosen or requested or None)


def _clean_without_project(env, path: Path, args: Mapping[str, str], build_dir: str | None,
                           exc: Exception):
    """`scons -c` with a firmware.toml (or board) that does not load: remove the build
    directory of the board named on the command line, or every board's, and the compile
    database, so a broken project can still be cleaned."""
    root = path.parent
    base = Path(build_dir) if build_dir else root / "build"
    base = base if base.is_absolute() else Path(env.Dir("#").abspath) / base
    board = args.get("board")
    doomed = base / Path(board).stem if board else base
    print(f"fwharden: warning: {exc}; removing {doomed} without reading the project",
          file=sys.stderr)
    anchor = env.Alias("fwharden-clean")
    env.Clean(anchor, [str(doomed), str(Path(env.Dir("#").abspath) / "compile_commands.json")])
    env.Default(anchor)
    return [anchor]


# Flags that name where the checkout is only to map it away (the object is the same in
# every directory: the reproducible-build test proves it).
_PATH_MAPS = ("-ffile-prefix-map=", "-fdebug-prefix-map=", "-fmacro-prefix-map=",
              "-Wa,--debug-prefix-map=")


def _unsigned_maps(flags: list[str]) -> list:
    """`flags` as Words, the prefix maps between SCons's $( $) so they are left out of the
    build signature: with the checkout's absolute path in it, a second checkout in another
    directory (a CI runner) missed the shared CacheDir for every object."""
    words = literal(f for f in flags if not f.startswith(_PATH_MAPS))
    maps = literal(f for f in flags if f.startswith(_PATH_MAPS))
    return [*words, "$(", *maps, "$)"] if maps else words


def _use_toolchain(env, tools, *, cflags: list[str], asflags: list[str], defines: list[str],
                   include_dirs: list[str], linkflags: list[str], libs: list[str]) -> None:
    """Point SCons's C, assembler and link variables at the selected toolchain.

    Every word from the project or the profile is a Literal (cmdline.py): quoted for the
    shell, never substituted. Defines go to CPPFLAGS as `-D` words, because SCons's
    CPPDEFINES takes only plain strings and substitutes `$` in them.
    """
    env.Replace(
        CC=Word(str(tools.cc)),
        AS=Word(str(tools.cc)),
        ASPP=Word(str(tools.cc)),
        LINK=Word(str(tools.linker)),
        FWH_OBJCOPY=Word(str(tools.objcopy)),
        CCFLAGS=_unsigned_maps(cflags),
        ASFLAGS=[*_unsigned_maps(asflags), "-c"],
        ASPPFLAGS=_unsigned_maps(asflags),
        CPPFLAGS=literal(f"-D{d}" for d in defines),
        CPPDEFINES=[],
        # Dir nodes made without substitution: the C scanner follows #includes through
        # them, and $_FWH_INCFLAGS passes each as one quoted -I word.
        CPPPATH=[env.fs.Dir(d) for d in include_dirs],
        _CPPINCFLAGS="$( ${_FWH_INCFLAGS(CPPPATH)} $)",
        LINKFLAGS=literal(linkflags),
        FWH_LIBS=literal(libs),
        LINKCOM="$FWH_LINKCOM",
        LINKCOMSTR="$FWH_LINKCOMSTR",
        FWH_STACK_USAGE=any(f == "-fstack-usage" for f in cflags),
        # The manifest records the flags as the project and profile gave them.
        _FWH_FLAGS=(tuple(cflags), tuple(defines), tuple(linkflags), tuple(libs)),
    )


def _compile_all(env, step, sources: list[Path], base: Path, into: Path) -> tuple[list, list]:
    """(object, source) pairs and .su files for `sources` under `into`, mirroring paths."""
    compiled, stack_usage = [], []
    for source in sources:
        rel = source.relative_to(base)
        pairs, su = _compile(env, step, source, into / rel.with_suffix(".o"))
        compiled += pairs
        stack_usage += su
    return compiled, stack_usage


def _generated_build(env, step, project: Project, profile: Profile, settings, tools, layout,
                     sources: list[Path], board_dir: Path, map_file):
    """fwharden's linker script, vector table and runtime around the project's sources."""
    root = project.root
    script = env.fs.File(f"{board_dir}/{profile.name}.ld")
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
                   defines=[*flags.defines, *(["FWH_IRQ_CYCLES=1"] if project.irq_cycles
                                               else []), *settings.defines],
                   include_dirs=[str(root / d) for d in settings.include_dirs] + [
                       str(include_dir())],
                   linkflags=[*flags.ldflags, *settings.ldflags],
                   libs=[*flags.libs, *settings.libs])
    script_node = step(env.FwhLinkerScript(script, render_linker_script(layout)))
    vectors = step(env.FwhVectorTable(env.fs.File(f"{board_dir}/gen/fwh_vectors.c"),
                                      render_vector_table(layout, project.irq_cycles)))
    obj_dir = board_dir / "obj"
    compiled, stack_usage = _compile_all(env, step, sources, root, obj_dir)
    # The project's objects, for the check that every handler it defines is installed.
    own = tuple((o.abspath, s.abspath, os.path.relpath(s.abspath, root)) for o, s in compiled)
    runtime = runtime_sources(profile.cpu.family, profile.console.setup)
    more, more_su = _compile_all(env, step, runtime, include_dir(), obj_dir / "fwharden")
    compiled += more
    stack_usage += more_su
    pairs, su = _compile(env, step, vectors[0], obj_dir / "gen" / "fwh_vectors.o")
    compiled += pairs
    stack_usage += su
    # The RP2040's boot2 (images.py): assembled, wrapped into C, compiled (three steps).
    rel_build = os.path.relpath(board_dir, env.Dir("#").abspath)
    for node in images.boot2_objects(env, profile, rel_build):
        if node.suffix == ".su":
            stack_usage.append(node)
        else:
            compiled.append((node, node.sources[0]))
            step.count += 3
    # The linker's output; firmware.elf is this file with the stack map filled in.
    linked = step(env.Program(env.fs.File(f"{board_dir}/firmware.unpatched.elf"),
                              [obj for obj, _ in compiled], FWH_MAPFILE=map_file.abspath))
    env.AddPreAction(linked[0], Action(check_handlers, None))
    env["FWH_HANDLER_OBJECTS"] = own
    env["FWH_VECTOR_NAMES"] = tuple(h for h in vector_entries(profile) if h)
    env.Depends(linked, script_node)
    extra = [env.fs.File(str(p)) for p in runtime] + [vectors[0]]
    return compiled, stack_usage, linked, script_node, extra


def _tinygo_build(env, step, project: Project, profile: Profile, tools, layout,
                  sources: list[Path], board_dir: Path, map_file):
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
    script = env.fs.File(f"{board_dir}/{profile.name}-tinygo.ld")
    reservation = env.fs.File(f"{board_dir}/gen/fwh_stackmap.c")
    target = env.fs.File(f"{board_dir}/fwharden-{profile.name}.json")
    script_node = step(env.FwhLinkerScript(script, render_linker_script(
        layout, tinygo=True, vector_entries=tinygo_board(profile).vector_entries)))
    stackmap_c = step(env.FwhTextFile(reservation, render_stackmap_reservation(layout)))
    target_node = step(env.FwhTextFile(target, target_json(
        profile, script.abspath, [reservation.abspath], map_file=map_file.abspath,
        tinygo_root=tools.root)))
    # fwharden's Go hand-off package: a generated go.work puts it beside the project.
    go_env, go_work = go_workspace(project.root, sources, board_dir / "go.work")
    extra = [step(env.FwhTextFile(env.fs.File(str(go_work[0])), go_work[1]))[0]] \
        if go_work else []
    output = env.fs.File(f"{board_dir}/firmware.unpatched.elf")
    opt = project.opt if project.opt in ("0", "1", "2", "s", "z") else "z"
    tags = tuple(str(env["FWH_TINYGO_TAGS"]).replace(",", " ").split())
    command = tinygo_command(tools.cc, target.abspath, output.abspath, ".", opt=opt,
                             size=bool(is_true(env["FWH_TINYGO_SIZE"])),
                             print_stacks=bool(is_true(env["FWH_TINYGO_PRINT_STACKS"])),
                             tags=tags)
    # What the manifest records for a C build, in TinyGo's terms: the build flags, the
    # build tags (Go's defines: they select the code), the linker flags the target adds.
    env.Replace(FWH_OBJCOPY=Word(str(tools.objcopy)), _FWH_FLAGS=(
        (f"-target={target.abspath}", f"-opt={opt}",
         *([f"-tags={' '.join(tags)}"] if tags else [])),
        ("fwharden", *tinygo_board(profile).tags, *tags),
        ("-T", script.abspath, f"-Map={map_file.abspath}"), ()))
    # An argument list, run without a shell (run_in); the short line says TINYGO. The map
    # is the link's second output.
    linked = step(env.Command([output, map_file], [env.fs.File(str(p)) for p in sources], Action(
        lambda target, source, env: run_in(command, project.root, go_env),
        "$FWH_TINYGOCOMSTR"),
        FWH_TINYGOCOMSTR=env.get("FWH_TINYGOCOMSTR") or " ".join(command).replace("$", "$$")))
    env.Depends(linked, [script_node, stackmap_c, target_node, *extra,
                         env.Value(" ".join(command))])
    return [], [], linked, script_node, [stackmap_c[0], target_node[0], *extra]


def _vendor_build(env, step, project: Project, settings, tools, sources: list[Path],
                  board_dir: Path, map_file):
    """The project's own start-up code and linker script, with its own flags word for word
    (so it is the firmware make built); only -fstack-usage is added, for verify."""
    if tools.kind != "gcc":
        fail(f"{project.path}: project.linker: vendor mode builds with the project's gcc flags; "
             "fix: use toolchain=gcc, or linker = \"generated\"")
        return None
    root = project.root
    script = env.fs.File(str(root / project.linker_script))
    cflags = [*settings.cflags, f"-O{project.opt}"]
    if "-fstack-usage" not in cflags:
        cflags.append("-fstack-usage")
    _use_toolchain(env, tools, cflags=cflags, asflags=list(settings.asflags),
                   defines=list(settings.defines),
                   include_dirs=[str(root / d) for d in settings.include_dirs],
                   linkflags=[*settings.ldflags, "-T", script.path, f"-Wl,-Map={map_file.path}"],
                   libs=list(settings.libs))
    compiled, stack_usage = _compile_all(env, step, sources, root, board_dir / "obj")
    linked = step(env.Program(env.fs.File(f"{board_dir}/firmware.elf"),
                              [obj for obj, _ in compiled], FWH_MAPFILE=map_file.abspath))
    env.Depends(linked, script)
    return compiled, stack_usage, linked, [script], []


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


def _compile(env, step, source, target: Path) -> tuple[list, list]:
    """Compile one source: ([(object, source)], [its .su file, if the emitter named one]).

    Nodes are made with `env.fs`, which, unlike `env.File`, does not substitute `$` in a
    file name."""
    source_node = env.fs.File(str(source)) if isinstance(source, Path) else source
    nodes = step(env.Object(env.fs.File(str(target)), source_node))
    objects = [n for n in nodes if n.suffix != ".su"]
    stack_usage = [n for n in nodes if n.suffix == ".su"]
    if stack_usage:
        # clang writes no .su for a file without functions (gcc an empty one): make it
        # empty, so the target exists and a no-op build does not compile it again.
        env.AddPostAction(objects[0], _ENSURE_FILES)
    return [(obj, source_node) for obj in objects], stack_usage


def ensure_files(target, source, env) -> int:
    """SCons action: create each target that the step did not write, empty."""
    for node in target:
        path = Path(str(node))
        if not path.exists():
            path.touch()
    return 0


# One Action for every object: making it per file hashed ensure_files's bytecode 300 times
# whenever a 300-file SConstruct was read, a no-op rebuild too (issue 19 item 5).
_ENSURE_FILES = Action(ensure_files, None)


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
