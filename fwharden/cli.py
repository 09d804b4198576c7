"""The `fwharden` command: one function per subcommand, output through one writer.

Only this module (and the SCons tool) prints or exits. Bad input is one line on stderr
and exit status 2; a parser never sees sys.exit.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Only what every command needs is imported here: the error types main() turns into one
# line, and argparse. Each command imports its own modules (pyelftools, capstone, LIEF,
# TOML, the report writers) when it runs, so `fwharden --version` and a small verify do
# not pay for all of them (issue 19: start-up was most of a small firmware's time).
# tests/unit/test_imports.py holds this to account.
from fwharden import __version__
from fwharden.atomic import OutputError, write_atomically
from fwharden.board_profiles.errors import ConfigError
from fwharden.flash.errors import FlashError
from fwharden.harden.errors import HardenError
from fwharden.inputs import (
    RECORD_LIMIT,
    TEXT_LIMIT,
    InputError,
    one_line,
    read_bounded,
    read_stream_bounded,
)
from fwharden.runner import EXIT_TIMEOUT, RunError
from fwharden.toolchain.errors import ToolchainError

EXIT_BAD_INPUT = 2


class Writer:
    """Text for people or JSON for programs, from the same call."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def emit(self, data: Any, text: str) -> None:
        if self.as_json:
            json.dump(data, sys.stdout, indent=2, sort_keys=True)
            sys.stdout.write("\n")
        else:
            sys.stdout.write(text)


def cmd_boards(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import list_boards, load_profile
    from fwharden.board_profiles.describe import describe_boards, profile_summary
    rows = [profile_summary(load_profile(name)) for name in list_boards()]
    out.emit(rows, describe_boards(rows))
    return 0


def cmd_board_show(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.board_profiles.describe import describe_profile, profile_to_dict
    from fwharden.board_profiles.probe import describe_probe, probe_to_dict
    from fwharden.linker import build_layout
    from fwharden.linker.describe import describe_layout, layout_to_dict
    profile = load_profile(args.name)
    layout = build_layout(profile)
    data = {**profile_to_dict(profile), "layout": layout_to_dict(layout),
            **probe_to_dict(profile.flash, profile.debug)}
    out.emit(data, describe_profile(profile) + describe_probe(profile.flash, profile.debug)
             + describe_layout(layout))
    return 0


def cmd_linker_script(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.board_profiles.project import StackOverrides, apply_stack_overrides
    from fwharden.linker import build_layout, render_linker_script
    profile = load_profile(args.board)
    if args.layout:
        profile = apply_stack_overrides(profile, StackOverrides(layout=args.layout),
                                        Path("command line"), prefix="")
    write_output(args.output or "-", render_linker_script(build_layout(profile)))
    return 0


def write_output(name: str, text: str) -> None:
    """An output option's file, written atomically; `-` is standard output."""
    if name == "-":
        sys.stdout.write(text)
    else:
        write_atomically(Path(name), text)


def cmd_toolchains(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.toolchain import find_toolchain
    profile = load_profile(args.board)
    rows = []
    for kind in ("gcc", "clang", "tinygo"):
        try:
            tools = find_toolchain(profile, kind)
        except ToolchainError as exc:
            rows.append({"toolchain": kind, "found": False, "error": str(exc)})
            continue
        rows.append({"toolchain": kind, "found": True, "cc": str(tools.cc),
                     "linker": str(tools.linker), "objcopy": str(tools.objcopy),
                     "versions": dict(tools.versions),
                     "libgcc": str(tools.libgcc) if tools.libgcc else None})
    out.emit(rows, describe_toolchains(profile.name, rows))
    return 0


def describe_toolchains(board: str, rows: list[dict[str, Any]]) -> str:
    lines = [f"toolchains for {board}:"]
    for row in rows:
        if row["found"]:
            versions = "; ".join(f"{name}: {line}" for name, line in row["versions"].items())
            lines.append(f"  {row['toolchain']:<7} {row['cc']}  ({versions})")
        else:
            lines.append(f"  {row['toolchain']:<7} missing: {row['error']}")
    return "\n".join(lines) + "\n"


def cmd_verify(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.board_profiles.project import load_project
    from fwharden.harden.analysis.policy import HardenPolicy, should_fail
    from fwharden.harden.analysis.run import su_files_in, verify_elf
    from fwharden.harden.report.text import describe_report
    profile = load_profile(args.board) if args.board else None
    policy = HardenPolicy()
    if args.config:
        project = load_project(Path(args.config))
        policy = project.harden
        if profile is None:
            profile = load_profile(project.board, project.board_dirs)
    if args.json == "-" and args.sarif == "-":
        raise OutputError("--json - and --sarif -: only one of them can go to standard output")
    elf = Path(args.elf)
    su_files = [*(args.su or ()), *su_files_in(args.su_dir or ())]
    stats: dict[str, int] = {}
    result = verify_elf(elf, profile, policy, su_files=su_files, cache=args.cache, stats=stats)
    if args.cache:
        print(f"verify cache {args.cache}: {stats.get('decoded', 0)} functions decoded, "
              f"{stats.get('reused', 0)} reused", file=sys.stderr)
    if args.json:
        from fwharden.harden.report.json import json_text, to_json
        write_output(args.json, json_text(to_json(result)))
    if args.sarif:
        from fwharden.harden.report.locations import project_for
        from fwharden.harden.report.sarif import sarif_text, to_sarif
        script = elf.parent / f"{profile.name}.ld" if profile is not None else None
        located = project_for(result, elf, Path(args.root),
                              script if script is not None and script.is_file() else None,
                              Path(args.config) if args.config else None)
        write_output(args.sarif, sarif_text(to_sarif(result, located)))
    # With JSON or SARIF on standard output, the text report goes to stderr so the
    # output stays parseable.
    text_out = sys.stderr if "-" in (args.json, args.sarif) else sys.stdout
    text_out.write(describe_report(result))
    # One decision for the CLI and the SCons tool: [harden] fail_on from --config counts.
    return 1 if should_fail(result, policy) else 0


def cmd_decode_fault(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.harden.faults.decode import decode_fault
    from fwharden.harden.faults.describe import describe_fault, fault_to_dict
    limit = RECORD_LIMIT if args.record else TEXT_LIMIT
    try:
        data = (read_stream_bounded(sys.stdin.buffer, limit) if args.log == "-"
                else read_bounded(Path(args.log), limit))
    except InputError as exc:
        raise HardenError(f"{args.log}: {exc}") from None
    if args.record:
        decoded = decode_fault(Path(args.elf), "", data)
    else:
        decoded = decode_fault(Path(args.elf), data.decode("utf-8", errors="replace"))
    out.emit(fault_to_dict(decoded), describe_fault(decoded))
    return 0


def cmd_run(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.runner import run_firmware
    profile = load_profile(args.board)
    return run_firmware(profile, Path(args.elf), args.timeout)


def cmd_size(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.harden.elf.image import load_image
    from fwharden.harden.report.usage import describe_usage, region_usage
    elf = Path(args.elf)
    board = args.board or _board_from_manifest(elf)
    image = load_image(elf)
    usage = region_usage(image, load_profile(board))
    rows = [{"region": u.name, "origin": u.origin, "length": u.length, "used": u.used,
             "percent": round(u.percent, 2)} for u in usage]
    if not args.symbols:
        out.emit(rows, describe_usage(usage))
        return 0
    from fwharden.harden.report.symbols import describe_symbols, region_symbols, symbols_to_dict
    if args.top < 1:
        raise HardenError(f"--top {args.top}: must be at least 1")
    symbols = region_symbols(image, load_profile(board), args.top,
                             {u.name: u.used for u in usage})
    data = [row | {key: item[key] for key in ("in_symbols", "unattributed", "symbols")}
            for row, item in zip(rows, symbols_to_dict(symbols), strict=True)]
    out.emit(data, describe_usage(usage) + "\n" + describe_symbols(symbols))
    return 0


def _board_from_manifest(elf: Path) -> str:
    """The board a build was made for, from the manifest.json the build wrote beside it."""
    manifest = elf.parent / "manifest.json"
    try:
        return json.loads(read_bounded(manifest, TEXT_LIMIT))["board"]["name"]
    except (InputError, ValueError, KeyError, TypeError):
        raise HardenError(f"{elf}: which board? no readable {manifest}; fix: pass --board "
                          "NAME") from None


def cmd_diff(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.harden.report.diff import (
        describe_diff,
        describe_diff_markdown,
        diff_builds,
        growth_violations,
        load_build,
        parse_threshold,
    )
    thresholds = [parse_threshold(t) for t in args.fail_on_growth or ()]
    diff = diff_builds(load_build(Path(args.old)), load_build(Path(args.new)))
    violations = growth_violations(diff, thresholds)
    diff["growth"] = {"limits": [t.describe() for t in thresholds], "over": violations}
    if args.json:
        write_output(args.json, json.dumps(diff, indent=2, sort_keys=True) + "\n")
    text = describe_diff_markdown(diff) if args.markdown else describe_diff(diff)
    (sys.stderr if args.json == "-" else sys.stdout).write(text)
    for line in violations:
        print(f"fwharden: error: {line}", file=sys.stderr)
    return 1 if violations else 0


def cmd_completion(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import list_boards
    from fwharden.completion import bash_script, zsh_script
    make = bash_script if args.shell == "bash" else zsh_script
    sys.stdout.write(make(build_parser(), list_boards()))
    return 0


def cmd_import_makefile(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.importer.project import import_makefile
    from fwharden.scaffold import SCONSTRUCT
    makefile = Path(args.makefile)
    overrides = {}
    for word in args.assignments:
        variable, equals, value = word.partition("=")
        if not equals or not variable.replace("_", "a").replace("-", "a").replace(".", "a").isalnum():
            raise ConfigError("command line", word, "is not a make variable assignment",
                              'write VAR=value, e.g. OPT="-Og -fcommon"')
        overrides[variable] = value
    result = import_makefile(makefile, args.board, linker=args.linker, overrides=overrides)
    if args.output == "-":  # firmware.toml alone on standard output, warnings on stderr
        sys.stderr.write("".join(f"warning: {w}\n" for w in result.warnings))
        sys.stderr.write("".join(f"note: {n}\n" for n in result.notes))
        sys.stdout.write(result.firmware_toml)
        return 0
    target = Path(args.output) if args.output else makefile.parent
    toml, sconstruct = target / "firmware.toml", target / "SConstruct"
    for path in (toml, sconstruct):
        if path.exists() and not args.force:
            raise ConfigError(path, "", "already exists", "pass --force to replace it, or -o DIR")
    write_atomically(toml, result.firmware_toml)
    write_atomically(sconstruct, SCONSTRUCT)
    text = "".join(f"warning: {w}\n" for w in result.warnings)
    text += "".join(f"note: {n}\n" for n in result.notes)
    text += (f"wrote {toml} (board {result.board}, linker = \"{result.linker}\") and "
             f"{sconstruct}\nnext: cd {target} && scons\n")
    out.emit({"board": result.board, "name": result.name, "linker": result.linker,
              "warnings": result.warnings, "notes": result.notes,
              "written": [str(toml), str(sconstruct)]}, text)
    return 0


def cmd_tinygo_target(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.linker import build_layout, render_linker_script, render_stackmap_reservation
    from fwharden.toolchain import find_toolchain
    from fwharden.toolchain.tinygo import target_json, tinygo_board, tinygo_command
    profile = load_profile(args.board)
    board = tinygo_board(profile)  # a board TinyGo cannot build for is one line, nothing written
    layout = build_layout(profile)
    if args.output == "-":
        raise OutputError("-o -: tinygo-target writes three files; fix: give a directory")
    directory = Path(args.output)
    script = directory / f"{profile.name}-tinygo.ld"
    reservation = directory / "fwh_stackmap.c"
    target = directory / f"fwharden-{profile.name}.json"
    write_atomically(reservation, render_stackmap_reservation(layout))
    try:  # TinyGo joins extra-files onto its TINYGOROOT: name the file relative to it
        root = find_toolchain(profile, "tinygo").root
    except ToolchainError:
        root = None
    write_atomically(script, render_linker_script(
        layout, tinygo=True, vector_entries=board.vector_entries))
    write_atomically(target, target_json(
        profile, str(script.resolve()) if root else script.name,
        [str(reservation.resolve()) if root else reservation.name], "firmware.map", root))
    command = tinygo_command("tinygo", target.name, "firmware.elf", ".")
    out.emit({"target": str(target), "linker_script": str(script),
              "extra_files": [str(reservation)], "command": command},
             f"wrote {target}, {script}, {reservation}\nbuild with: {' '.join(command)}\n")
    return 0


def cmd_init(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.scaffold import init_project
    load_profile(args.board)  # fail early on an unknown board
    written = init_project(Path(args.directory), args.board)
    out.emit([str(p) for p in written],
             "".join(f"wrote {p}\n" for p in written)
             + f"next: cd {args.directory} && scons\n")
    return 0


def cmd_flash(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.flash.run import describe_flash, flash_firmware
    elf = Path(args.elf)
    board = args.board or _board_from_manifest(elf)
    result = flash_firmware(load_profile(board), elf, args.tool, args.port)
    out.emit({"board": board, "tool": result.tool, "commands": result.commands,
              "proof": result.proof}, describe_flash(result, elf, board))
    return 0


def cmd_gdbinit(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.flash.gdbinit import write_debug_files
    elf = Path(args.elf)
    board = args.board or _board_from_manifest(elf)
    files = write_debug_files(load_profile(board), elf, Path(args.output) if args.output else None,
                              port=args.port)
    written = [p for p in (files.gdbinit, files.commands, files.openocd_cfg, files.launch_json) if p]
    out.emit([str(p) for p in written], "".join(f"wrote {p}\n" for p in written))
    return 0


def cmd_debug(args: argparse.Namespace, out: Writer) -> int:
    from fwharden.board_profiles import load_profile
    from fwharden.flash.debug import debug_session
    elf = Path(args.elf)
    board = args.board or _board_from_manifest(elf)
    return debug_session(load_profile(board), elf, args.gdb_args, args.port, args.server_only)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fwharden", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"fwharden {__version__}")
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument("--json", action="store_true", help="print JSON instead of text")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("boards", parents=[shared], help="list the board catalog")
    p.set_defaults(func=cmd_boards)

    board = sub.add_parser("board", help="inspect one board")
    board_sub = board.add_subparsers(dest="board_command", required=True, metavar="ACTION")
    p = board_sub.add_parser("show", parents=[shared], help="resolved profile and layout")
    p.add_argument("name")
    p.set_defaults(func=cmd_board_show)

    p = sub.add_parser("linker-script", parents=[shared], help="write a board's linker script")
    p.add_argument("--board", required=True)
    p.add_argument("--layout", choices=("top", "flip"), help="override the stack layout")
    p.add_argument("-o", "--output", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_linker_script)

    p = sub.add_parser("toolchains", parents=[shared],
                       help="which compilers a board can use, with their versions")
    p.add_argument("--board", default="stm32h743")
    p.set_defaults(func=cmd_toolchains)

    p = sub.add_parser("verify", help="prove an ELF's interrupt handlers safe (exit 1: findings)")
    p.add_argument("elf")
    p.add_argument("--board", help="board profile the ELF was built for")
    p.add_argument("--config", help="firmware.toml whose [harden] table to apply")
    p.add_argument("--json", metavar="OUT", help="write the JSON report here")
    p.add_argument("--sarif", metavar="OUT", help="write SARIF 2.1.0 findings here")
    p.add_argument("--root", default=".", metavar="DIR",
                   help="directory the SARIF file paths are relative to (default: .)")
    p.add_argument("--su-dir", action="append", metavar="DIR",
                   help="read every .su file below DIR (repeatable; default: none, frames "
                   "from the disassembly)")
    p.add_argument("--su", action="append", metavar="FILE",
                   help="one .su stack-usage file of the build (repeatable)")
    p.add_argument("--cache", metavar="DIR",
                   help="keep each function's decode in DIR and reuse it while its bytes "
                   "and everything it reads are unchanged (same result, faster rebuilds)")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("decode-fault", parents=[shared],
                       help="turn a FWH-FAULT line into fault words, symbols and lines")
    p.add_argument("--elf", required=True, help="the firmware that printed the fault")
    p.add_argument("log", help="log file with the FWH-FAULT line ('-': standard input), or "
                   "with --record a binary dump of the .noinit fault record")
    p.add_argument("--record", action="store_true",
                   help="LOG is the raw fwh_last_fault record, not console text")
    p.set_defaults(func=cmd_decode_fault)

    p = sub.add_parser("run", help="run a firmware in QEMU; exit with its status")
    p.add_argument("elf")
    p.add_argument("--board", required=True)
    p.add_argument("--timeout", type=float, default=30.0, help="seconds before it is stopped")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("flash", parents=[shared],
                       help="write a verified firmware to the board with its probe")
    p.add_argument("elf")
    p.add_argument("--board", help="board profile (default: from manifest.json beside the ELF)")
    p.add_argument("--tool", choices=("openocd", "pyocd", "esptool", "uf2"),
                   help="another tool the profile configures (default: its [flash] tool)")
    p.add_argument("--port", help="pyOCD probe id, esptool serial port, or the UF2 drive")
    p.set_defaults(func=cmd_flash)

    p = sub.add_parser("gdbinit", parents=[shared],
                       help="write the gdbinit (fwh-stacks, fwh-fault, fwh-map) and launch.json")
    p.add_argument("elf")
    p.add_argument("--board", help="board profile (default: from manifest.json beside the ELF)")
    p.add_argument("-o", "--output", help="directory for the files (default: beside the ELF)")
    p.add_argument("--port", type=int, help="GDB server port (default: the profile's)")
    p.set_defaults(func=cmd_gdbinit)

    p = sub.add_parser("debug", help="start the GDB server and gdb-multiarch with the gdbinit")
    p.add_argument("elf")
    p.add_argument("--board", help="board profile (default: from manifest.json beside the ELF)")
    p.add_argument("--port", type=int, help="GDB server port (default: the profile's)")
    p.add_argument("--server-only", action="store_true",
                   help="start the server and wait (for an IDE or another GDB)")
    p.set_defaults(func=cmd_debug, gdb_args=[])  # after `--`: arguments for GDB (see main)

    p = sub.add_parser("size", parents=[shared], help="memory use per region of a firmware")
    p.add_argument("elf")
    p.add_argument("--board", help="board profile (default: from manifest.json beside the ELF)")
    p.add_argument("--symbols", action="store_true",
                   help="also the largest functions and objects of each region")
    p.add_argument("--top", type=int, default=10, metavar="N",
                   help="how many symbols per region with --symbols (default: 10)")
    p.set_defaults(func=cmd_size)

    p = sub.add_parser("diff", help="compare two builds: memory, stacks, findings (for a PR)")
    p.add_argument("old", help="build directory (build/<board>) or manifest.json before")
    p.add_argument("new", help="build directory or manifest.json after")
    p.add_argument("--json", metavar="OUT", help="write the comparison as JSON ('-': stdout)")
    p.add_argument("--markdown", action="store_true",
                   help="Markdown for a pull-request comment instead of text")
    p.add_argument("--fail-on-growth", action="append", metavar="[NAME=]N[%]",
                   help="exit 1 when a region or stack grows by more than N bytes or N%% "
                   "(repeatable; NAME limits it to one region, or the isr/thread stack)")
    p.set_defaults(func=cmd_diff)

    p = sub.add_parser("completion", help="print a shell completion script: "
                       "eval \"$(fwharden completion bash)\"")
    p.add_argument("shell", choices=("bash", "zsh"))
    p.set_defaults(func=cmd_completion)

    p = sub.add_parser("import-makefile", parents=[shared],
                       help="write firmware.toml + SConstruct for a Makefile project")
    p.add_argument("makefile")
    p.add_argument("assignments", nargs="*", metavar="VAR=value",
                   help="make command-line variables, e.g. OPT=\"-Og -fcommon\"")
    p.add_argument("-o", "--output", help="directory for the new files (default: beside it; "
                   "'-': print firmware.toml only)")
    p.add_argument("--board", help="board profile (default: from the MCU define)")
    p.add_argument("--linker", choices=("vendor", "generated"), default="vendor",
                   help="keep the project's linker script and start-up (vendor), or move onto "
                        "fwharden's (generated)")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.set_defaults(func=cmd_import_makefile)

    p = sub.add_parser("tinygo-target", parents=[shared],
                       help="write a TinyGo target JSON and linker script for a board")
    p.add_argument("--board", required=True)
    p.add_argument("-o", "--output", default=".", help="directory to write into")
    p.set_defaults(func=cmd_tinygo_target)

    p = sub.add_parser("init", parents=[shared], help="create a project that builds")
    p.add_argument("directory")
    p.add_argument("--board", default="stm32h743")
    p.set_defaults(func=cmd_init)
    return parser


# Commands whose --json takes a file name (or -), and decode-fault, where a - after --json
# is its LOG argument (standard input).
_JSON_TAKES_VALUE = ("verify", "diff", "decode-fault")


def _json_dash(argv: list[str]) -> list[str]:
    """`--json -` means standard output for every command: where --json is a plain switch
    (its output already goes to stdout) the `-` after it is dropped."""
    command = next((w for w in argv if not w.startswith("-")), None)
    if command in _JSON_TAKES_VALUE:
        return argv
    return [w for i, w in enumerate(argv) if not (w == "-" and i and argv[i - 1] == "--json")]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    # `fwharden debug ELF -- ARGS`: everything after -- goes to GDB untouched.
    passthrough = argv[argv.index("--") + 1:] if "--" in argv else []
    args = parser.parse_args(_json_dash(argv[:argv.index("--")] if "--" in argv else argv))
    if passthrough:
        if args.command != "debug":
            parser.error("arguments after -- are for `fwharden debug` only")
        args.gdb_args = passthrough
    func: Callable[[argparse.Namespace, Writer], int] = args.func
    try:
        as_json = getattr(args, "json", False) is True
        return func(args, Writer(as_json))
    except (ConfigError, ToolchainError, HardenError, OutputError) as exc:
        print(f"fwharden: error: {one_line(str(exc))}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except RunError as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return EXIT_TIMEOUT
    except FlashError as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return exc.status
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
