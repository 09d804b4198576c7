"""TinyGo: a target JSON that builds a Go package into fwharden's layout, and the command.

Follows TinyGo's own target files (tinygo-org/tinygo v0.33.0, targets/*.json): a board
target `inherits` a core target ("cortex-m4", "fe310"), which brings `llvm-target`, `cpu`,
`features`, `cflags`, `ldflags`, the scheduler, the GC and the core's start-up files; the
board target adds `build-tags` (board and chip: they select the `machine` and `device`
packages, so pins such as `UART_TX_PIN` exist), `serial` (without it `println` compiles to
nothing), the chip's vector table file and `linkerscript`. fwharden writes the same fields
itself for each board TinyGo supports, points `linkerscript` at its generated script (in
TinyGo mode it also defines what TinyGo's runtime reads; see linker/script.py), adds the
stack-map reservation as an `extra-files` C source and asks the linker for a map file.

Two facts of TinyGo 0.33 shape the paths (compileopts/config.go, builder/build.go): every
`extra-files` entry is joined onto TINYGOROOT, so a generated file is named relative to it;
`linkerscript` and `ldflags` go to ld.lld unchanged, so they are absolute.
Nothing here runs a program; `tinygo_command` only builds the argument list.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from fwharden.board_profiles import Profile

from .errors import ToolchainError


@dataclass(frozen=True)
class TinyGoBoard:
    """How TinyGo's own board target builds for one fwharden board."""

    target: str                 # TinyGo's board target this mirrors (targets/<target>.json)
    base: str                   # the core target it inherits
    tags: tuple[str, ...]       # board and chip build tags, in TinyGo's order
    serial: str                 # TinyGo's `serial`: where println goes
    startup: tuple[str, ...]    # TINYGOROOT-relative files: the chip's vector table
    vector_entries: int | None  # entries of that table (None: no table, RISC-V traps)
    extra: tuple[tuple[str, object], ...] = ()  # other keys of TinyGo's board target


# fwharden board -> TinyGo 0.33 board target. Only boards whose chip TinyGo's `machine`
# package supports: targets/stm32f4disco.json (STM32F407VG, the F4DISCOVERY that the
# stm32f407 profile describes) and targets/hifive1b.json (FE310-G002). TinyGo 0.33 has no
# STM32H7 machine package at all, so stm32h743 is not here.
TINYGO_BOARDS = {
    "stm32f407": TinyGoBoard("stm32f4disco", "cortex-m4",
                             ("stm32f4disco", "stm32f407", "stm32f4", "stm32"), "uart",
                             # 16 + 90 IRQ slots, generated from ST's STM32F407 SVD;
                             # the F407 raises lines 0-81 only (RM0090 Table 61), slots
                             # 88/89 (LTDC) never fire on it.
                             ("src/device/stm32/stm32f407.s",), 106),
    "fe310": TinyGoBoard("hifive1b", "fe310", ("hifive1b",), "uart", (), None),
    # targets/pico.json over targets/rp2040.json: TinyGo's vector table (16 + the 26 lines
    # of the RP2040 SVD) and its W25Q080 boot2, whose CRC TinyGo writes after the link
    # ("rp2040-boot-patch"). serial = "uart" (UART0 on GP0/GP1, fwharden's console) where
    # TinyGo's default is its USB CDC stack.
    "rp2040": TinyGoBoard("pico", "cortex-m0plus", ("pico", "rp2040", "rp"), "uart",
                          ("src/device/rp/rp2040.s", "targets/pico-boot-stage2.S"), 42,
                          (("rp2040-boot-patch", True),)),
    # targets/microbit.json over targets/nrf51.json: Nordic's SystemInit (nrfx MDK, which
    # needs nrf51.json's -DNRF51 and include paths) and TinyGo's vector table (16 + the 26
    # lines of the nRF51 SVD).
    "microbit": TinyGoBoard("microbit", "cortex-m0", ("microbit", "nrf51822", "nrf51", "nrf"),
                            "uart", ("lib/nrfx/mdk/system_nrf51.c", "src/device/nrf/nrf51.s"),
                            42, (("cflags", ("-DNRF51", "-I{root}/lib/CMSIS/CMSIS/Include",
                                             "-I{root}/lib/nrfx/mdk")),)),
}


# Boards TinyGo supports with a start-up contract of its own that fwharden's layout does
# not take. TinyGo's esp32c3 target (targets/esp32c3.json, esp32c3.ld, device/esp/
# esp32c3.S) is loaded by the boot ROM from flash 0x0 as its own image (builder/esp.go) and
# runs from flash through the MMU windows it maps itself (IROM 0x42000000, DROM
# 0x3C000000); fwharden's esp32c3 board runs the whole program from SRAM as an app image
# behind ESP-IDF's 2nd-stage bootloader at 0x10000. A TinyGo runtime moved into that
# layout is one that neither TinyGo nor fwharden tests, on a chip Debian's QEMU does not
# emulate; so TinyGo builds it the way it does, and fwharden verifies the ELF it makes.
TINYGO_OWN_LAYOUT = {
    "esp32c3": ("TinyGo's esp32c3 target boots from flash 0x0 with its own linker script "
                "and image (targets/esp32c3.ld, code in the flash windows), not the app image "
                "this board writes behind ESP-IDF's bootloader; fix: build it with TinyGo's own "
                "target (tinygo build -target=xiao-esp32c3 -o firmware.elf, or another "
                "esp32c3 board), flash it at 0x0 as `tinygo flash` does, and check the ELF "
                "with `fwharden verify --board esp32c3 firmware.elf`"),
}


def tinygo_board(profile: Profile) -> TinyGoBoard:
    """The TinyGo board target for `profile`, or one line saying which boards Go builds for."""
    board = TINYGO_BOARDS.get(profile.name)
    if board is None and profile.name in TINYGO_OWN_LAYOUT:
        raise ToolchainError(f"board {profile.name}: {TINYGO_OWN_LAYOUT[profile.name]}")
    if board is None:
        raise ToolchainError(
            f"board {profile.name}: TinyGo 0.33 has no machine support for it; fix: build the "
            f"Go program for one of {', '.join(sorted(TINYGO_BOARDS))}, or use a C toolchain")
    return board


def base_target(profile: Profile) -> str:
    return tinygo_board(profile).base


def root_relative(path: str | Path, tinygo_root: Path | None) -> str:
    """`path` as TinyGo's `extra-files` needs it: relative to TINYGOROOT (TinyGo joins it on)."""
    if tinygo_root is None:
        return str(path)
    return os.path.relpath(Path(path).resolve(), tinygo_root.resolve())


def tinygo_target(profile: Profile, linker_script: str, extra_files: list[str],
                  map_file: str | None = None, tinygo_root: Path | None = None) -> dict:
    """The target JSON for `tinygo build -target=<file>`.

    `extra_files` are fwharden's generated sources; with `tinygo_root` they are written
    relative to it. The chip's start-up files are TINYGOROOT-relative already.
    """
    board = tinygo_board(profile)
    target = {
        "inherits": [board.base],
        "build-tags": ["fwharden", *board.tags],
        "serial": board.serial,
        "linkerscript": linker_script,
        "extra-files": [*board.startup, *(root_relative(f, tinygo_root) for f in extra_files)],
        # Goroutine stacks come from the heap; TinyGo's "default-stack-size" sizes them.
        "default-stack-size": profile.stacks.thread_size,
    }
    target.update(dict(board.extra))
    if map_file is not None:
        target["ldflags"] = [f"-Map={map_file}"]
    return target


def missing_startup(profile: Profile, tinygo_root: Path) -> str | None:
    """The first of the board's TINYGOROOT-relative start-up files that is not there."""
    for name in tinygo_board(profile).startup:
        if not (tinygo_root / name).is_file():
            return str(tinygo_root / name)
    return None


def target_json(profile: Profile, linker_script: str, extra_files: list[str],
                map_file: str | None = None, tinygo_root: Path | None = None) -> str:
    return json.dumps(tinygo_target(profile, linker_script, extra_files, map_file, tinygo_root),
                      indent=2, sort_keys=True) + "\n"


def tinygo_command(tinygo: Path | str, target_file: str, output: str, package: str,
                   opt: str = "z", size: bool = False, print_stacks: bool = False,
                   tags: tuple[str, ...] = ()) -> list[str]:
    """`tinygo build` with fwharden's target; -size / -print-stacks / -tags when asked."""
    command = [str(tinygo), "build", f"-target={target_file}", f"-opt={opt}", "-o", output]
    if tags:
        command.append(f"-tags={' '.join(tags)}")
    if size:
        command.append("-size=short")
    if print_stacks:
        command.append("-print-stacks")
    command.append(package)
    return command


# fwharden's Go hand-off package (runtime/go/handoff), imported as HANDOFF_IMPORT.
HANDOFF_IMPORT = "fwharden/handoff"
HANDOFF_DIR = Path(__file__).resolve().parent.parent / "runtime" / "go" / "handoff"


def go_workspace(root: Path, sources: list[Path], work_file: Path
                 ) -> tuple[dict[str, str], tuple[Path, str] | None]:
    """(environment for `tinygo build`, (go.work path, its text) or None).

    A project whose Go sources import fwharden's hand-off package gets a generated go.work
    (Go 1.18+ workspaces: `use` the project and the package's module), unless it has its
    own go.work (then it must `use` HANDOFF_DIR itself). TinyGo resolves packages with
    `go list`, which honours GOWORK. Workspace mode refuses `-mod=mod` ("-mod may only be
    set to readonly or vendor when in workspace mode"), so that flag is dropped from
    GOFLAGS and -mod=readonly, the workspace default, is set instead.
    """
    wanted = f'"{HANDOFF_IMPORT}"'
    uses = any(wanted in p.read_text(errors="replace") for p in sources if p.suffix == ".go")
    if not uses or (root / "go.work").exists():
        return {}, None
    version = "1.21"
    mod = root / "go.mod"
    if mod.is_file():
        for line in mod.read_text(errors="replace").splitlines():
            words = line.split()
            if len(words) == 2 and words[0] == "go":
                version = max(version, words[1], key=_go_version)
    text = "\n".join([
        "// AUTO-GENERATED by fwharden, do not edit: the project and fwharden's Go",
        f"// hand-off package ({HANDOFF_IMPORT}), for `tinygo build`.",
        f"go {version}",
        "",
        f"use {json.dumps(str(root))}",
        f"use {json.dumps(str(HANDOFF_DIR))}",
        "",
    ])
    flags = [f for f in os.environ.get("GOFLAGS", "").split() if not f.startswith("-mod=")]
    env = {"GOWORK": str(work_file), "GOFLAGS": " ".join([*flags, "-mod=readonly"])}
    return env, (work_file, text)


def _go_version(text: str) -> tuple[int, ...]:
    """`1.21` / `1.22.3` as numbers, for comparing go directives."""
    return tuple(int(part) for part in text.split(".") if part.isdigit())
