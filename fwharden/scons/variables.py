"""The command-line arguments of a fwharden build, as SCons `Variables`.

`scons board=stm32h743 opt=s` reaches the tool through the `FWH_ARGS=ARGUMENTS` the
SConstruct passes; each argument is a `Variables` entry whose key is a construction
variable (`FWH_BOARD`) and whose alias is the name on the command line (`board`), so
`scons -h` lists them with their help and `$FWH_BOARD` can be read like any other variable.

Values are kept as the strings the user typed (no `$` substitution: `subst=False`) and are
checked by `build.select`, which turns a bad value into the tool's one-line error; a
validator here would raise SCons's own multi-line `UserError` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from SCons.Variables import Variables


@dataclass(frozen=True)
class Argument:
    """One command-line argument: `name=VALUE` on the command line, `$key` in the env."""

    name: str
    key: str
    metavar: str
    help: str
    default: str


ARGUMENTS: tuple[Argument, ...] = (
    Argument("board", "FWH_BOARD", "NAME",
             "board profile: a catalog name (fwharden boards) or a path to a .toml",
             "project.board of firmware.toml"),
    Argument("toolchain", "FWH_TOOLCHAIN", "gcc|clang|tinygo",
             "compiler; clang links with ld.lld", "project.toolchain of firmware.toml"),
    Argument("opt", "FWH_OPT", "0|1|2|3|s|z|g", "optimisation level (-O)",
             "project.opt of firmware.toml"),
    Argument("layout", "FWH_LAYOUT", "top|flip", "stack layout", "the board's, or [stacks]"),
    Argument("isr_size", "FWH_ISR_SIZE", "SIZE", "interrupt stack size (2K, 0x800, ...)",
             "the board's, or [stacks]"),
    Argument("thread_size", "FWH_THREAD_SIZE", "SIZE", "thread stack size",
             "the board's, or [stacks]"),
    Argument("guard_size", "FWH_GUARD_SIZE", "SIZE", "MPU/PMP guard below each stack",
             "the board's, or [stacks]"),
    Argument("run_timeout", "FWH_RUN_TIMEOUT", "SECONDS",
             "`scons run`: stop a firmware that has not exited (status 124)", "30"),
    Argument("flash_tool", "FWH_FLASH_TOOL", "TOOL",
             "`scons flash`: the flash tool to use (see the board's [flash])", "the board's"),
    Argument("port", "FWH_FLASH_PORT", "PORT", "`scons flash`: the probe's serial port",
             "the tool's"),
    Argument("gdb_port", "FWH_GDB_PORT", "PORT", "`scons debug`: the GDB server's port",
             "the board's"),
    Argument("irq_cycles", "FWH_IRQ_CYCLES", "0|1",
             "1: time every interrupt handler (DWT CYCCNT / mcycle) into the cycle slots",
             "[runtime] irq_cycles of firmware.toml"),
    Argument("VERBOSE", "FWH_VERBOSE", "0|1", "1: print full command lines, not `CC src/main.c`",
             "0"),
    Argument("size", "FWH_TINYGO_SIZE", "0|1", "TinyGo: print sizes (tinygo build -size short)",
             "0"),
    Argument("print_stacks", "FWH_TINYGO_PRINT_STACKS", "0|1",
             "TinyGo: print goroutine stack sizes", "0"),
    Argument("tags", "FWH_TINYGO_TAGS", "T1,T2", "TinyGo: build tags", "none"),
    Argument("cache_dir", "FWH_CACHE_DIR", "PATH",
             "shared build cache (SCons CacheDir), e.g. on CI storage; a CacheDir the "
             "SConstruct sets wins", "$FWH_CACHE_DIR from the environment, else none"),
)

# Defaults that are not a value of their own ("from firmware.toml") are stored as "".
_LITERAL_DEFAULTS = {"FWH_RUN_TIMEOUT": "30", "FWH_VERBOSE": "0", "FWH_TINYGO_SIZE": "0",
                     "FWH_TINYGO_PRINT_STACKS": "0"}
TRUE_WORDS = ("1", "yes", "true", "on")
FALSE_WORDS = ("0", "no", "false", "off", "")


def fwharden_variables(args: Mapping[str, str]) -> Variables:
    """The Variables over `args` (the SConstruct's ARGUMENTS)."""
    variables = Variables(None, dict(args))
    for arg in ARGUMENTS:
        variables.Add((arg.key, arg.name), help=arg.help,
                      default=_LITERAL_DEFAULTS.get(arg.key, ""), subst=False)
    variables.FormatVariableHelpText = _format_help
    return variables


def _format_help(env, key: str, help: str, default, actual, aliases=None) -> str:
    """`name=VALUE  help` with the default in words, for `scons -h`."""
    arg = next(a for a in ARGUMENTS if a.key == key)
    shown = f"{arg.name}={arg.metavar}"
    return (f"  {shown:<28} {help}\n  {'':<28} default: {arg.default}"
            + (f"; now: {actual}" if actual not in ("", arg.default) else "") + f"  (${key})\n")


def is_true(value: str) -> bool | None:
    """A boolean argument (`VERBOSE=1`, `size=yes`); None when it is neither."""
    word = str(value).strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None
