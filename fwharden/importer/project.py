"""`fwharden import-makefile`: a Makefile project (STM32CubeMX or hand-written) -> firmware.toml.

The import keeps the project's own linker script and start-up code (`linker = "vendor"`)
and its flags word for word, so the first `scons` build is the same firmware `make`
built; `fwharden verify` works on it all the same. With `--linker generated` the project
moves onto fwharden's linker script and runtime in the same step (generated.py decides
what leaves the build and where the stacks go, and the import says so).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from fwharden.board_profiles import ConfigError, list_boards, load_profile
from fwharden.inputs import printable

from .generated import plan_generated
from .makefile import MakefileError, read_makefile, search_directories

_MCU_DEFINE = re.compile(r"^-D(STM32[A-Z]\d{3})[A-Za-z0-9]*$")
_OPT = re.compile(r"^-O([0123sgz])$")


@dataclass
class ImportResult:
    name: str
    board: str
    firmware_toml: str
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)   # what the generated import decided
    linker: str = "vendor"


def _strip(words: list[str], prefix: str) -> list[str]:
    return [w[len(prefix):] for w in words if w.startswith(prefix) and len(w) > len(prefix)]


def _toml_list(values: list[str]) -> str:
    if not values:
        return "[]"
    items = ",\n".join(f"    {_quote(v)}" for v in values)
    return f"[\n{items},\n]"


def _quote(value: str) -> str:
    """A TOML basic string: backslash, quote and every control character escaped (TOML
    1.0, Basic strings), so whatever a Makefile held, the file parses."""
    out = []
    for char in value:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F or 0xD800 <= ord(char) <= 0xDFFF:
            # A lone surrogate (an undecodable byte read with surrogateescape) has no
            # TOML escape; U+FFFD keeps the file valid UTF-8.
            out.append("\\uFFFD" if ord(char) >= 0xD800 else f"\\u{ord(char):04X}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def board_from_defines(defines: list[str]) -> str | None:
    """STM32H743xx -> stm32h743, when the catalog has that board."""
    for word in defines:
        match = _MCU_DEFINE.match(word)
        if match:
            candidate = match.group(1).lower()
            if candidate in list_boards():
                return candidate
    return None


_SOURCE_VARIABLES = ("C_SOURCES", "CPP_SOURCES", "CXX_SOURCES", "ASM_SOURCES", "ASMM_SOURCES")
_OTHER_SOURCE_VARIABLES = ("C_SRCS", "CPP_SRCS", "A_SRCS", "ASM_SRCS", "S_SRCS")
_OTHER_LDSCRIPT_VARIABLES = ("LD_SCRIPT", "LINKER_SCRIPT", "LD_FILE")

# Where an MCU define may sit: CubeMX's C_DEFS, and whatever a hand-written Makefile uses.
_FLAG_VARIABLE = re.compile(r"(DEFS|DEFINES|FLAGS)$")


def _mcu_board(makefile) -> tuple[str | None, str]:
    """The catalog board named by an -D<MCU> in any flag variable, and where it was."""
    names = ["C_DEFS", *sorted(n for n in makefile.raw if _FLAG_VARIABLE.search(n) and n != "C_DEFS")]
    for name in names:
        found = board_from_defines(makefile.words(name))
        if found:
            return found, name
    return None, "C_DEFS"


def _located(path: Path, makefile, source_vars: list[str], source: str, at,
             warnings: list[str]) -> str:
    """`source` as the project's directory holds it: as written, else where make's `vpath`
    and `VPATH` search finds it (a hand-written `C_SOURCES = main.c uart.c` with
    `VPATH = src:drivers`); a file found nowhere is kept and warned about."""
    if (path.parent / source).is_file():
        return source
    for directory in search_directories(makefile, source):
        candidate = PurePosixPath(directory) / source
        if (path.parent / candidate).is_file():
            return candidate.as_posix()
    variable = next(v for v in source_vars if source in makefile.words(v))
    searched = search_directories(makefile, source)
    warnings.append(f"{at(variable)}: source {printable(source)} does not exist"
                    + (f" (nor under vpath/VPATH {', '.join(map(printable, searched))})"
                       if searched else "") + "; kept in the list")
    return source


def _size_text(value: int) -> str:
    return f"{value // 1024}K" if value % 1024 == 0 else f"0x{value:x}"


def import_makefile(path: Path, board: str | None = None, linker: str = "vendor",
                    overrides: dict[str, str] | None = None) -> ImportResult:
    """Read `path` as make would (with `overrides` as make's command-line variables) and
    return the firmware.toml text; `linker` "generated" moves the project onto fwharden's
    linker script and runtime (see generated.py)."""
    if not path.is_file():
        raise ConfigError(path, "", "no such Makefile", "give the path of the project's Makefile")
    try:
        makefile = read_makefile(path, overrides)
    except MakefileError as exc:
        raise ConfigError(path, "", str(exc).split(": ", 1)[-1], "give the project's Makefile") \
            from None
    warnings = list(makefile.warnings)

    def at(variable: str) -> str:
        return makefile.where.get(variable, f"{path.name}:1")

    name = makefile.value("TARGET").strip() or path.parent.resolve().name
    c_defs = makefile.words("C_DEFS")
    found, _where = _mcu_board(makefile)
    chosen = board or found
    if chosen is None:
        raise ConfigError(path, "C_DEFS", "no MCU define names a board of the catalog, in "
                          "C_DEFS or any other *DEFS/*FLAGS variable (e.g. -DSTM32H743xx)",
                          f"pass --board, one of: {', '.join(list_boards())}")
    source_vars = [v for v in _SOURCE_VARIABLES if makefile.words(v)]
    if not source_vars:
        # Hand-written Makefiles often say C_SRCS/A_SRCS; used only when CubeMX's names are
        # absent, and said.
        source_vars = [v for v in _OTHER_SOURCE_VARIABLES if makefile.words(v)]
        for variable in source_vars:
            warnings.append(f"{at(variable)}: sources taken from {variable} (no C_SOURCES)")
    sources = [w for v in source_vars for w in makefile.words(v)]
    if not sources:
        candidates = sorted(n for n in makefile.raw if "SRC" in n or "SOURCE" in n)
        raise ConfigError(path, "C_SOURCES", "no sources: C_SOURCES, ASM_SOURCES and the other "
                          "source variables fwharden reads are empty",
                          "list the sources in C_SOURCES" + (
                              f" (this Makefile has {', '.join(candidates[:6])})"
                              if candidates else ""))
    sources = [_located(path, makefile, source_vars, source, at, warnings)
               for source in sources]
    includes = _strip(_shell_words(makefile.words("C_INCLUDES")), "-I")
    defines = _strip(_shell_words(c_defs), "-D")
    opt_words = makefile.words("OPT")
    opt = next((m.group(1) for w in opt_words if (m := _OPT.match(w))), "2")
    if not opt_words:
        warnings.append(f"{at('CFLAGS')}: OPT is not set; using -O2")

    # Only the -O level of OPT becomes `opt`; its other words (OPT="-Og -fcommon") stay flags.
    consumed = set(makefile.words("C_DEFS")) | set(makefile.words("C_INCLUDES")) | {
        w for w in opt_words if _OPT.match(w)}
    # -MMD/-MP/-MF write make's .d dependency files; SCons scans headers itself.
    dependency_flags = {"-MMD", "-MP", "-MD"}
    cflags = _shell_words([w for w in makefile.words("CFLAGS")
                           if w not in consumed and w not in dependency_flags])
    if not cflags:
        cflags = [*makefile.words("MCU")]
        warnings.append(f"{at('CFLAGS')}: CFLAGS is empty; using MCU ({' '.join(cflags)})")
    asflags = _shell_words(makefile.words("ASFLAGS"))
    if "assembler-with-cpp" in makefile.value("AS") and "assembler-with-cpp" not in asflags:
        asflags = ["-x", "assembler-with-cpp", *asflags]
    ldscript_var = next((v for v in ("LDSCRIPT", *_OTHER_LDSCRIPT_VARIABLES)
                         if makefile.value(v).strip()), "LDSCRIPT")
    # LD_SCRIPT := board.ld -static: the script is the word that names a linker script.
    script_words = makefile.value(ldscript_var).split()
    ldscript = next((w for w in script_words if w.endswith((".ld", ".lds"))),
                    " ".join(script_words))
    if not ldscript and linker == "vendor":
        raise ConfigError(path, "LDSCRIPT", "not set", "set LDSCRIPT to the project's linker "
                          "script, or import with --linker generated")
    libs = makefile.words("LIBS")
    libdirs = makefile.words("LIBDIR")
    ldflags = []
    for word in makefile.words("LDFLAGS"):
        if word.startswith("-T") or word in libs or word in libdirs or "-Map" in word:
            continue  # the script, libraries and map are their own keys / fwharden's
        ldflags.append(word)
    ldflags = _shell_words(ldflags)
    for variable in ("BUILD_DIR",):
        if makefile.value(variable):
            warnings.append(f"{at(variable)}: {variable}={printable(makefile.value(variable))} "
                            "is not used: fwharden builds into build/<board>/")
    if linker == "generated":
        text, notes = _generated_toml(path, makefile, name, chosen, opt, sources, includes,
                                      defines, cflags, asflags, ldflags, libdirs, libs, ldscript)
        warnings += [w for w in makefile.warnings if w not in warnings]
        return ImportResult(name=name, board=chosen, firmware_toml=text, warnings=warnings,
                            notes=notes, linker="generated")
    text = f"""# Imported from {printable(path.name)} by `fwharden import-makefile`.
# linker = "vendor" keeps {printable(ldscript)} and the project's start-up code, so this builds
# the same firmware as make did. To use fwharden's linker script (an isolated, guarded
# interrupt stack), import again with --linker generated.
schema_version = 1

[project]
name = {_quote(name)}
board = {_quote(chosen)}
toolchain = "gcc"
linker = "vendor"
linker_script = {_quote(ldscript)}
opt = {_quote(opt)}
sources = {_toml_list(sources)}
include_dirs = {_toml_list(includes)}
defines = {_toml_list(defines)}
cflags = {_toml_list(cflags)}
asflags = {_toml_list(asflags)}
ldflags = {_toml_list(ldflags)}
libs = {_toml_list([*libdirs, *libs])}

[harden]
fail_on = "error"
"""
    warnings += [w for w in makefile.warnings if w not in warnings]
    return ImportResult(name=name, board=chosen, firmware_toml=text, warnings=warnings)


# Link flags of a vendor build that fwharden's generated mode sets itself (or must not get):
# the C library specs become `libc`, and the start-up files are fwharden's.
_SPECS = re.compile(r"^-?-specs=(nano|nosys)\.specs$")


def _generated_toml(path: Path, makefile, name: str, board: str, opt: str, sources: list[str],
                    includes: list[str], defines: list[str], cflags: list[str],
                    asflags: list[str], ldflags: list[str], libdirs: list[str], libs: list[str],
                    ldscript: str) -> tuple[str, list[str]]:
    profile = load_profile(board)
    plan = plan_generated(path.parent, sources, ldscript or None, profile)
    specs = [w for w in ldflags if _SPECS.match(w)]
    libc = "newlib-nano" if any("nano" in w for w in specs) or "-lc" in libs else "none"
    kept_ldflags = [w for w in ldflags if not _SPECS.match(w) and w not in ("-nostartfiles",)]
    kept_ldflags += plan.ldflags
    if plan.constructors:
        defines = [*defines, "FWH_CONSTRUCTORS"]
    notes = []
    for dropped in plan.dropped:
        notes.append(f"{printable(dropped)} leaves the build: fwharden's runtime has the reset "
                     "code (SystemInit, .data/.bss, constructors) and the vector table")
    if ldscript:
        notes.append(f"{printable(ldscript)} is not used: fwharden generates the linker script")
    if plan.faults:
        names = ", ".join(f"{handler} ({where})" for handler, where in plan.faults)
        notes.append(f"the project's {names} replace fwharden's fault reporter (no FWH-FAULT "
                     "line or record when a stack guard is hit); delete them to keep fwharden's")
    stacks = [f"region = {_quote(plan.region)}"]
    if plan.stack_size:
        thread = plan.stack_size
        stacks.append(f"thread_size = {_quote(_size_text(thread))}")
        notes.append(f"thread stack {_size_text(thread)} from _Min_Stack_Size "
                     f"(0x{plan.stack_size:x}); interrupts get their own "
                     f"{_size_text(profile.stacks.isr_size)} stack (the board's isr_size)")
    if plan.heap_size is not None:
        stacks.append(f"heap_size = {_quote(_size_text(plan.heap_size))}")
        notes.append(f"heap {_size_text(plan.heap_size)} from _Min_Heap_Size, for _sbrk")
    notes.append(f"stacks in {plan.region_reason}")
    header = "\n".join(f"#   {n}" for n in notes)
    text = f"""# Imported from {printable(path.name)} by `fwharden import-makefile --linker generated`:
# fwharden's linker script (isolated, guarded stacks) and runtime instead of the vendor's.
{header}
schema_version = 1

[project]
name = {_quote(name)}
board = {_quote(board)}
toolchain = "gcc"
linker = "generated"
libc = {_quote(libc)}
opt = {_quote(opt)}
sources = {_toml_list(plan.sources)}
include_dirs = {_toml_list(includes)}
defines = {_toml_list(defines)}
cflags = {_toml_list(cflags)}
asflags = {_toml_list(asflags)}
ldflags = {_toml_list(kept_ldflags)}
libs = {_toml_list([*libdirs, *libs])}

[stacks]
{chr(10).join(stacks)}

[harden]
fail_on = "error"
"""
    return text, notes


def _shell_words(words: list[str]) -> list[str]:
    """Flags as the compiler receives them from a make recipe.

    make hands each recipe line to /bin/sh, which removes quotes and backslashes: the
    Makefile word `-DVERSION=\\"1.0\\"` reaches gcc as `-DVERSION="1.0"`. fwharden passes
    every flag as one argument with no shell in between, so the shell's quote removal is
    done here. A line sh would reject (an unbalanced quote) keeps make's own words.
    """
    try:
        return shlex.split(" ".join(words))
    except ValueError:
        return words
