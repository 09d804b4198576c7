"""The SCons tool as SCons users expect it: Builders and construction variables, Variables
in `scons -h`, short output, emitter targets a CacheDir restores, a compile database that
is only written when it changes, cleaning a broken project, the top-level SConstruct, and
command lines that no string from firmware.toml can break or run (issues 10, 15, 20)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO, copy_project, scons
from elfcheck import symbols

from fwharden.scons.variables import ARGUMENTS

STEP = re.compile(r"^\[ *(\d+)/(\d+)\] ([A-Z]+) (\S.*)$")


def _set_project(example: Path, old: str, new: str) -> None:
    toml = example / "firmware.toml"
    text = toml.read_text()
    assert old in text
    toml.write_text(text.replace(old, new))


def test_scons_h_lists_every_argument_with_its_help(example: Path) -> None:
    # Broken on purpose: -h must not need a valid project.
    (example / "firmware.toml").write_text("not toml [")
    result = scons(example, "-h")
    for arg in ARGUMENTS:
        line = next((x for x in result.stdout.splitlines()
                     if x.strip().startswith(f"{arg.name}=")), None)
        assert line is not None, (arg.name, result.stdout)
        assert arg.help in line
    assert "default: 30" in result.stdout  # run_timeout's default, from the Variables


def test_the_tool_sets_no_global_option(tmp_path: Path) -> None:
    """Loading the tool leaves -j, implicit_cache and the CacheDir to the SConstruct."""
    (tmp_path / "SConstruct").write_text(
        "import fwharden.scons\n"
        "env = Environment(tools=['fwh'], toolpath=[fwharden.scons.TOOLPATH])\n"
        "print('jobs', GetOption('num_jobs'), 'implicit', GetOption('implicit_cache'),\n"
        "      'cache', env.get_CacheDir().path)\n")
    result = scons(tmp_path, ".")
    assert "jobs 1 implicit False cache None" in result.stdout, result.stdout
    # The SConstruct `fwharden init` writes sets the default -j; the command line wins.
    from fwharden.scaffold import SCONSTRUCT
    assert 'SetOption("num_jobs"' in SCONSTRUCT
    (tmp_path / "SConstruct").write_text(SCONSTRUCT.replace(
        'env.Firmware("firmware.toml")', "print('jobs', GetOption('num_jobs'))"))
    assert "jobs 3" in scons(tmp_path, "-j3", ".").stdout


def test_short_output_by_default_full_commands_with_verbose(example: Path) -> None:
    result = scons(example, "board=stm32h743")
    lines = result.stdout.splitlines()
    assert all(len(line) < 160 for line in lines), max(lines, key=len)
    steps = [STEP.match(line) for line in lines if line.startswith("[")]
    assert steps and all(steps), lines
    names = [(m.group(3), m.group(4)) for m in steps]
    assert ("CC", "src/main.c") in names
    kinds = {kind for kind, _ in names}
    assert {"CC", "LD", "VERIFY", "STACKMAP", "REPORT", "MANIFEST"} <= kinds, kinds
    # A clean build counts every step: 1..N, N the same on every line.
    assert [int(m.group(1)) for m in steps] == list(range(1, len(steps) + 1))
    assert {int(m.group(2)) for m in steps} == {len(steps)}
    assert "arm-none-eabi-gcc" not in result.stdout
    # The memory table and the verdict stay.
    assert "Memory use of" in result.stdout and "flash" in result.stdout
    assert "verdict: PASS" in result.stdout
    verbose = scons(example, "board=stm32h743", "opt=s", "VERBOSE=1")
    compile_line = next(x for x in verbose.stdout.splitlines() if x.endswith("src/main.c"))
    assert "arm-none-eabi-gcc" in compile_line and "-Os" in compile_line
    assert "-mcpu=cortex-m7" in compile_line and "-fstack-usage" in compile_line
    assert not any(STEP.match(x) for x in verbose.stdout.splitlines())


def test_a_sconstruct_sets_its_own_comstr(example: Path) -> None:
    """The short lines are construction variables: the SConstruct's own value wins."""
    sconstruct = example / "SConstruct"
    sconstruct.write_text(sconstruct.read_text().replace(
        "FWH_ARGS=ARGUMENTS", "FWH_ARGS=ARGUMENTS, FWH_REPORTCOMSTR='making the report $TARGET'"))
    result = scons(example, "board=stm32h743")
    assert "making the report build/stm32h743/report.html" in result.stdout


def test_compile_database_written_only_when_it_changes(example: Path) -> None:
    scons(example, "board=stm32h743")
    cdb = example / "compile_commands.json"
    before = cdb.stat()
    entries = json.loads(cdb.read_text())
    main = next(e for e in entries if e["file"].endswith("src/main.c"))
    assert main["arguments"][0].endswith("arm-none-eabi-gcc")
    assert "-DDEMO_ROUNDS=3" in main["arguments"]
    again = scons(example, "board=stm32h743")
    assert "CDB" not in again.stdout
    after = cdb.stat()
    assert (after.st_mtime_ns, after.st_ino) == (before.st_mtime_ns, before.st_ino)
    _set_project(example, '"DEMO_ROUNDS=3"', '"DEMO_ROUNDS=4"')
    changed = scons(example, "board=stm32h743")
    assert "CDB compile_commands.json" in changed.stdout
    main = next(e for e in json.loads(cdb.read_text()) if e["file"].endswith("src/main.c"))
    assert "-DDEMO_ROUNDS=4" in main["arguments"]


def test_clean_works_with_a_broken_firmware_toml(example: Path) -> None:
    scons(example, "board=stm32h743")
    scons(example, "board=mps2-an500")
    (example / "firmware.toml").write_text("[project\nname = ")
    result = scons(example, "-c", "board=stm32h743")
    assert result.returncode == 0
    assert not (example / "build" / "stm32h743").exists()
    assert (example / "build" / "mps2-an500" / "firmware.elf").exists()
    scons(example, "-c")  # no board: every board's directory
    assert not (example / "build").exists()
    assert not (example / "compile_commands.json").exists()
    # Building still says what is wrong, in one line.
    build = scons(example, check=False)
    assert build.returncode == 2 and "firmware.toml" in build.stderr


def test_run_depends_on_the_whole_build(example: Path) -> None:
    result = scons(example, "board=mps2-an500", "run", "run_timeout=60")
    out = example / "build" / "mps2-an500"
    for name in ("firmware.elf", "firmware.bin", "firmware.hex", "manifest.json",
                 "report.html", "verify.json", "memory-usage.txt"):
        assert (out / name).exists(), name
    assert "RUN build/mps2-an500/firmware.elf" in result.stdout
    # The manifest is written before the run starts.
    lines = result.stdout.splitlines()
    run_at = next(i for i, x in enumerate(lines) if x.startswith("RUN "))
    assert any("MANIFEST" in x for x in lines[:run_at])


def test_stale_stack_usage_of_a_deleted_source_is_never_read(example: Path) -> None:
    extra = example / "src" / "extra.c"
    extra.write_text("int extra_function(int x) { return x * 3; }\n")
    scons(example, "board=stm32h743")
    out = example / "build" / "stm32h743"
    stale = out / "obj" / "src" / "extra.su"
    assert stale.exists()  # an emitter target, beside its object
    extra.unlink()
    # What is left behind is a FIFO: opened, it would block the build for ever (a walk of
    # the build directory read every *.su it found).
    stale.unlink()
    os.mkfifo(stale)
    result = subprocess.run([sys.executable, "-m", "SCons", "-Q", "board=stm32h743"],
                            cwd=example, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERIFY" in result.stdout and "verdict: PASS" in result.stdout
    assert "extra_function" not in (out / "verify.txt").read_text()


def test_cache_dir_set_in_the_sconstruct_restores_su_and_map(example: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    sconstruct = example / "SConstruct"
    sconstruct.write_text(sconstruct.read_text() + f"CacheDir({str(cache)!r})\n")
    # A global CacheDir after Firmware() is not seen (see build._pin_cache_dir): move it up.
    text = sconstruct.read_text().splitlines()
    cache_line = text.pop()
    text.insert(text.index(next(x for x in text if x.startswith("env = "))), cache_line)
    sconstruct.write_text("\n".join(text) + "\n")
    scons(example, "board=stm32h743")
    out = example / "build" / "stm32h743"
    kept = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
            if p.is_file() and p.suffix in (".su", ".map", ".o", ".elf")}
    assert any(p.suffix == ".su" for p in kept) and Path("firmware.map") in kept
    shutil.rmtree(out)
    again = scons(example, "board=stm32h743")
    assert "CC " not in again.stdout and "LD " not in again.stdout, again.stdout
    restored = {p.relative_to(out): p.read_bytes() for p in out.rglob("*")
                if p.is_file() and p.suffix in (".su", ".map", ".o", ".elf")}
    assert restored == kept


def test_top_level_sconstruct_builds_the_example(tmp_path: Path) -> None:
    """`scons board=stm32h743` at the repository root (its SConstruct, on a copy)."""
    root = tmp_path / "repo"
    root.mkdir()
    shutil.copy(REPO / "SConstruct", root / "SConstruct")
    copy_project(REPO / "examples" / "irq-demo", root / "examples" / "irq-demo")
    result = scons(root, "board=stm32h743")
    out = root / "build" / "irq-demo" / "stm32h743"
    assert "CC examples/irq-demo/src/main.c" in result.stdout
    assert (out / "firmware.elf").exists() and (out / "manifest.json").exists()
    assert "__fwh_isr_stack_start" in symbols(out / "firmware.elf")
    assert (root / "compile_commands.json").exists()
    assert not (root / "examples" / "irq-demo" / "build").exists()


# --- issue 20: strings from firmware.toml never run and never change ---------------------

PROBE_C = """\
/* The defines, as the compiler saw them, kept in the object for the test to read. */
const char fwh_probe[] = "<" FW_VERSION "|" GREETING "|" SUBST "|" TICK ">";
"""


def _object_strings(obj: Path) -> bytes:
    """The object's .rodata bytes, read back by the real objcopy."""
    raw = obj.with_suffix(".bin")
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", "--only-section=.rodata*",
                    str(obj), str(raw)], check=True)
    return raw.read_bytes()


def test_defines_and_names_reach_the_compiler_exactly(example: Path, tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    odd = example / "src" / "odd $HOME `touch ran2` $(touch ran3).c"
    odd.write_text(PROBE_C)
    defines = ['FW_VERSION="1.0"', 'GREETING="hello world"',
               'SUBST="$(echo hi) $HOME ${HOME} $$"', f'TICK="`touch {marker}`"']
    _set_project(example, 'defines = ["DEMO_ROUNDS=3"]',
                 "defines = " + json.dumps(["DEMO_ROUNDS=3", *defines]) + "\n"
                 + "include_dirs = " + json.dumps(["src", f"inc `touch {marker}` $(x)"]) + "\n"
                 + "ldflags = " + json.dumps([f"-L/nonexistent/`touch {marker}`/$HOME"]))
    text = (example / "firmware.toml").read_text()
    (example / "firmware.toml").write_text(text.replace('include_dirs = ["src"]\n', "", 1))
    result = scons(example, "board=stm32h743")
    assert not marker.exists()
    assert not (example / "ran2").exists() and not (example / "ran3").exists()
    obj = example / "build" / "stm32h743" / "obj" / "src" / (odd.stem + ".o")
    assert obj.exists(), result.stdout
    expected = b'<1.0|hello world|$(echo hi) $HOME ${HOME} $$|`touch ' + str(marker).encode() + b"`>"
    assert expected + b"\0" in _object_strings(obj)
    # The short line names the odd file as it is.
    assert f"CC src/{odd.name}" in result.stdout


def test_bad_define_name_is_one_line_naming_the_key(example: Path) -> None:
    _set_project(example, '"DEMO_ROUNDS=3"', '"DEMO ROUNDS=3"')
    result = scons(example, "board=stm32h743", check=False)
    assert result.returncode == 2
    lines = [x for x in result.stderr.splitlines() if x.strip()]
    assert len(lines) == 1 and "defines: 'DEMO ROUNDS=3'" in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_project_name_that_is_not_a_file_name_is_refused(example: Path) -> None:
    _set_project(example, 'name = "irq-demo"', 'name = "../escape"')
    result = scons(example, "board=stm32h743", check=False)
    assert result.returncode == 2
    assert "project.name: '../escape' cannot be a file name" in result.stderr
    assert not (example / "build").exists()
