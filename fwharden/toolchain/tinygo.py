"""TinyGo: a target JSON that builds a Go package into fwharden's layout, and the command.

Follows TinyGo's own target files (tinygo-org/tinygo, targets/*.json, as of TinyGo 0.3x):
a target `inherits` a base target for the core ("cortex-m4", "cortex-m7", "fe310",
"riscv32"), which brings `llvm-target`, `cpu`, `features`, `cflags`, `ldflags`, the
scheduler and the GC; a board target adds `build-tags` (which select the machine and
device packages) and `linkerscript`. fwharden points `linkerscript` at its generated
script (which, in TinyGo mode, also defines the symbols TinyGo's runtime expects; see
linker/script.py) and adds the stack-map reservation as an `extra-files` C source.
Nothing here runs a program; `tinygo_command` only builds the argument list.
"""

from __future__ import annotations

import json
from pathlib import Path

from fwharden.board_profiles import Profile

from .errors import ToolchainError

# Core -> TinyGo base target (targets/cortex-m4.json, cortex-m7.json, ..., fe310.json).
CORE_TARGETS = {
    "cortex-m0": "cortex-m0",
    "cortex-m0plus": "cortex-m0plus",
    "cortex-m3": "cortex-m3",
    "cortex-m4": "cortex-m4",
    "cortex-m7": "cortex-m7",
    "cortex-m33": "cortex-m33",
    "sifive-e31": "fe310",
}
# Board -> TinyGo build tags that select its device and machine packages, as TinyGo's own
# board targets set them (targets/hifive1b.json: fe310 via `inherits`; STM32 targets use
# the family and series tags). NOTE: assumes the TinyGo release in use ships a device
# package for the chip; a user's TinyGo may name a series differently.
BOARD_TAGS = {
    "stm32h743": ["stm32h7x3", "stm32h7", "stm32"],
    "stm32f407": ["stm32f407", "stm32f4", "stm32"],
    "imxrt1064": ["mimxrt1062", "nxp"],
    "fe310": ["hifive1b"],
    "sifive-e": ["hifive1b"],
    "mps2-an386": ["qemu"],
    "mps2-an500": ["qemu"],
    "gd32vf103": [],
}


def base_target(profile: Profile) -> str:
    core = profile.cpu.core
    if core in CORE_TARGETS:
        return CORE_TARGETS[core]
    if profile.cpu.family == "riscv":
        return "riscv32"
    raise ToolchainError(f"no TinyGo base target for core {core}; fix: build with "
                         "toolchain=gcc or add the core to fwharden.toolchain.tinygo")


def tinygo_target(profile: Profile, linker_script: str, extra_files: list[str]) -> dict:
    """The target JSON for `tinygo build -target=<file>`."""
    return {
        "inherits": [base_target(profile)],
        "build-tags": ["fwharden", *BOARD_TAGS.get(profile.name, [])],
        "linkerscript": linker_script,
        "extra-files": list(extra_files),
        # Goroutine stacks come from the heap; TinyGo's "default-stack-size" sizes them.
        "default-stack-size": profile.stacks.thread_size,
    }


def target_json(profile: Profile, linker_script: str, extra_files: list[str]) -> str:
    return json.dumps(tinygo_target(profile, linker_script, extra_files), indent=2,
                      sort_keys=True) + "\n"


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
