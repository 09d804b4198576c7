"""The fwharden Builders, each an action `$FWH_xCOM` with its short form `$FWH_xCOMSTR`.

Like SCons's own tools (`Tool/textfile.py`, `Tool/compilation_db.py`): a Builder names an
action through a construction variable, so a SConstruct can replace the step (a Python
function or a command line) or its output without touching the tool. The emitters name
every file a step writes, so `scons -c` removes it and a CacheDir stores and restores it:
the `.su` frame sizes beside each C object, the `.map` beside the ELF, verify's three files.
"""

from __future__ import annotations

import json
from pathlib import Path

from SCons.Action import Action
from SCons.Builder import Builder, ListEmitter
from SCons.Node.Python import Value
from SCons.Subst import SUBST_CMD
from SCons.Tool import createObjBuilders

from fwharden.atomic import write_atomically
from fwharden.scons import actions

C_SUFFIXES = (".c",)
ASM_SUFFIXES = {".s": "$ASCOM", ".S": "$ASPPCOM", ".sx": "$ASPPCOM", ".spp": "$ASPPCOM"}

# Outputs go to a temporary name that the rename makes current, so an interrupted build
# never leaves an ELF, .bin or .hex that looks finished ($_FWH_TMPTARGET is quoted).
LINKCOM = ("$LINK -o $_FWH_TMPTARGET $LINKFLAGS $_FWH_IN $FWH_LIBS "
           "&& mv -f $_FWH_TMPTARGET $_FWH_OUT")
OBJCOPYCOM = ("$FWH_OBJCOPY -O $FWH_OBJCOPY_FORMAT $_FWH_IN $_FWH_TMPTARGET "
              "&& mv -f $_FWH_TMPTARGET $_FWH_OUT")

def write_compile_db(target, source, env) -> int:
    """SCons action: compile_commands.json for the (object, source) pairs in
    $FWH_COMPILED, rendered now (the Value source is only what the text depends on)."""
    write_atomically(Path(str(target[0])), compile_db_text(env, env["FWH_COMPILED"]))
    return 0


# Construction variable -> default action. The README's table lists the same names.
COMMANDS = {
    "FWH_LINKCOM": LINKCOM,
    "FWH_OBJCOPYCOM": OBJCOPYCOM,
    "FWH_LDSCRIPTCOM": actions.write_text,
    "FWH_VECTORSCOM": actions.write_text,
    "FWH_TEXTFILECOM": actions.write_text,
    "FWH_VERIFYCOM": actions.verify_firmware,
    "FWH_STACKMAPCOM": actions.patch_firmware,
    "FWH_USAGECOM": actions.report_usage,
    "FWH_REPORTCOM": actions.html_report,
    "FWH_MANIFESTCOM": actions.write_manifest,
    "FWH_COMPILEDBCOM": write_compile_db,
    "FWH_DISTCOM": actions.copy_all,
    "FWH_RUNCOM": actions.run_in_qemu,
}


def _action(name: str) -> Action:
    return Action(f"${name}COM", f"${name}COMSTR")


def verify_emitter(target, source, env):
    """verify.json -> verify.json, findings.sarif, verify.txt (one run writes all three)."""
    first = target[0]
    return [first, first.File("findings.sarif"), first.File("verify.txt")], source


def stack_usage_emitter(target, source, env):
    """An object compiled with -fstack-usage also writes `<object>.su` (gcc and clang name
    it after -o); only C sources have one (the assembler writes none)."""
    if env.get("FWH_STACK_USAGE"):
        obj = target[0]
        target = [*target, obj.File(Path(obj.name).with_suffix(".su").name)]
    return target, source


def map_emitter(target, source, env):
    """The link writes `$FWH_MAPFILE` (-Wl,-Map=) too."""
    if env.get("FWH_MAPFILE"):
        target = [*target, env.fs.File(env["FWH_MAPFILE"])]
    return target, source


def add_builders(env) -> None:
    """Register the Builders and their default actions (kept when the SConstruct set one)."""
    env.SetDefault(**COMMANDS)
    value_builder = {"source_factory": Value}
    env.Append(BUILDERS={
        "FwhLinkerScript": Builder(action=_action("FWH_LDSCRIPT"), **value_builder),
        "FwhVectorTable": Builder(action=_action("FWH_VECTORS"), **value_builder),
        "FwhTextFile": Builder(action=_action("FWH_TEXTFILE"), **value_builder),
        "FwhVerify": Builder(action=_action("FWH_VERIFY"), emitter=verify_emitter),
        "FwhStackMap": Builder(action=_action("FWH_STACKMAP")),
        "FwhObjcopy": Builder(action=_action("FWH_OBJCOPY")),
        "FwhUsage": Builder(action=_action("FWH_USAGE")),
        "FwhReport": Builder(action=_action("FWH_REPORT")),
        "FwhManifest": Builder(action=_action("FWH_MANIFEST")),
        "FwhCompileDb": Builder(action=_action("FWH_COMPILEDB"), **value_builder),
        "FwhDist": Builder(action=_action("FWH_DIST")),
    })
    static_obj, _ = createObjBuilders(env)
    for suffix in C_SUFFIXES:
        old = static_obj.emitter.get(suffix)
        static_obj.emitter[suffix] = ListEmitter([*env.Flatten(old or []), stack_usage_emitter])
    env.Append(PROGEMITTER=[map_emitter])


def compile_db_key(env, compiled) -> str:
    """What compile_commands.json is a function of, cheap to make when the SConstruct is
    read: each kind of command line expanded once, for the first object of that kind (so
    how target and source are spelled counts too), and every (object, source) path. All
    objects are built by the one environment, so each entry is the same expansion with
    its own target and source. Expanding every object's command here cost ~0.4 s of a
    300-file no-op build (issue 19 item 5); the text is rendered when the file is made."""
    top = env.Dir("#").abspath
    firsts: dict[str, list[str]] = {}
    for obj, src in compiled:
        command = "$CCCOM" if src.suffix in C_SUFFIXES else ASM_SUFFIXES.get(src.suffix, "$ASCOM")
        if command not in firsts:
            argv = env.subst_list(command, SUBST_CMD, target=[obj], source=[src])[0]
            firsts[command] = [str(obj), str(src), *(str(arg) for arg in argv)]
    return json.dumps({"top": top, "commands": firsts,
                       "pairs": [[obj.abspath, src.srcnode().abspath] for obj, src in compiled]},
                      sort_keys=True)


def compile_db_text(env, compiled) -> str:
    """compile_commands.json for `compiled` ((object, source) pairs), as clang tools read it:
    `arguments` (the exact argv, no shell quoting to undo), the directory, file and output.
    The file is the target of a Value holding `compile_db_key`: written when an entry
    changes, never on a no-op build (SCons's own CompilationDatabase always is)."""
    top = env.Dir("#").abspath
    entries = []
    for obj, src in compiled:
        command = "$CCCOM" if src.suffix in C_SUFFIXES else ASM_SUFFIXES.get(src.suffix, "$ASCOM")
        argv = env.subst_list(command, SUBST_CMD, target=[obj], source=[src])[0]
        entries.append({"arguments": [str(arg) for arg in argv], "directory": top,
                        "file": src.srcnode().abspath, "output": obj.abspath})
    return json.dumps(entries, indent=2, sort_keys=True) + "\n"
