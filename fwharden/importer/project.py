"""`fwharden import-makefile`: a Makefile project (STM32CubeMX or hand-written) -> firmware.toml.

The import keeps the project's own linker script and start-up code (`linker = "vendor"`)
and its flags word for word, so the first `scons` build is the same firmware `make`
built; `fwharden verify` works on it all the same. Switching to `linker = "generated"`
(fwharden's isolated, guarded stacks) is a later, deliberate step.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from fwharden.board_profiles import ConfigError, list_boards
from fwharden.inputs import printable

from .makefile import MakefileError, read_makefile

_MCU_DEFINE = re.compile(r"^-D(STM32[A-Z]\d{3})[A-Za-z0-9]*$")
_OPT = re.compile(r"^-O([0123sgz])$")


@dataclass
class ImportResult:
    name: str
    board: str
    firmware_toml: str
    warnings: list[str] = field(default_factory=list)


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


def import_makefile(path: Path, board: str | None = None) -> ImportResult:
    if not path.is_file():
        raise ConfigError(path, "", "no such Makefile", "give the path of the project's Makefile")
    try:
        makefile = read_makefile(path)
    except MakefileError as exc:
        raise ConfigError(path, "", str(exc).split(": ", 1)[-1], "give the project's Makefile") \
            from None
    warnings = list(makefile.warnings)
    name = makefile.value("TARGET").strip() or path.parent.resolve().name
    c_defs = makefile.words("C_DEFS")
    chosen = board or board_from_defines(c_defs)
    if chosen is None:
        raise ConfigError(path, "C_DEFS", "no MCU define names a board of the catalog "
                          "(e.g. -DSTM32H743xx)", f"pass --board, one of: {', '.join(list_boards())}")
    sources = [*makefile.words("C_SOURCES"), *makefile.words("ASM_SOURCES"),
               *makefile.words("ASMM_SOURCES")]
    missing = [s for s in sources if not (path.parent / s).is_file()]
    for source in missing:
        warnings.append(f"{path.name}: source {source} does not exist; kept in the list")
    includes = _strip(makefile.words("C_INCLUDES"), "-I")
    defines = _strip(c_defs, "-D")
    opt_words = makefile.words("OPT")
    opt = next((m.group(1) for w in opt_words if (m := _OPT.match(w))), "2")
    if not opt_words:
        warnings.append(f"{path.name}: OPT is not set; using -O2")

    consumed = set(makefile.words("C_DEFS")) | set(makefile.words("C_INCLUDES")) | set(opt_words)
    # -MMD/-MP/-MF write make's .d dependency files; SCons scans headers itself.
    dependency_flags = {"-MMD", "-MP", "-MD"}
    cflags = [w for w in makefile.words("CFLAGS")
              if w not in consumed and w not in dependency_flags]
    if not cflags:
        cflags = [*makefile.words("MCU")]
        warnings.append(f"{path.name}: CFLAGS is empty; using MCU ({' '.join(cflags)})")
    as_defs = set(makefile.words("AS_DEFS")) | set(makefile.words("AS_INCLUDES"))
    asflags = [w for w in makefile.words("ASFLAGS")]
    if "assembler-with-cpp" in makefile.value("AS") and "assembler-with-cpp" not in asflags:
        asflags = ["-x", "assembler-with-cpp", *asflags]
    del as_defs
    ldscript = makefile.value("LDSCRIPT").strip()
    if not ldscript:
        raise ConfigError(path, "LDSCRIPT", "not set", "set LDSCRIPT to the project's linker script")
    libs = makefile.words("LIBS")
    libdirs = makefile.words("LIBDIR")
    ldflags = []
    for word in makefile.words("LDFLAGS"):
        if word.startswith("-T") or word in libs or word in libdirs or "-Map" in word:
            continue  # the script, libraries and map are their own keys / fwharden's
        ldflags.append(word)
    for variable in ("BUILD_DIR",):
        if makefile.value(variable):
            warnings.append(f"{path.name}: {variable}={makefile.value(variable)} is not used: "
                            "fwharden builds into build/<board>/")
    text = f"""# Imported from {printable(path.name)} by `fwharden import-makefile`.
# linker = "vendor" keeps {printable(ldscript)} and the project's start-up code, so this builds
# the same firmware as make did. To use fwharden's linker script (an isolated, guarded
# interrupt stack), set linker = "generated" and drop the vendor start-up file from
# sources: fwharden's runtime then provides the reset code and the vector table.
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
