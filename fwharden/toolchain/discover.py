"""Find the cross compilers and binutils a board needs, and report their versions.

A missing program is a `ToolchainError` whose one line names the program and the Debian
package that provides it. Nothing here prints; `which()` is given the PATH explicitly so
the SCons tool and the tests can pass the environment they really use.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from fwharden.board_profiles import Profile

from .errors import ToolchainError
from .flags import gcc_multilib_flags

# Program -> where to get it on Debian 12.
PACKAGES = {
    "arm-none-eabi-gcc": "apt-get install gcc-arm-none-eabi",
    "arm-none-eabi-objcopy": "apt-get install binutils-arm-none-eabi",
    "riscv64-unknown-elf-gcc": "apt-get install gcc-riscv64-unknown-elf",
    "riscv64-unknown-elf-objcopy": "apt-get install binutils-riscv64-unknown-elf",
    "clang": "apt-get install clang",
    "ld.lld": "apt-get install lld",
    "llvm-objcopy": "apt-get install llvm",
    "tinygo": "TinyGo has no Debian package: install it from https://tinygo.org/getting-started/"
              "install/linux/ (its .deb) and put tinygo on PATH",
}
GCC_PREFIX = {"arm": "arm-none-eabi-", "riscv": "riscv64-unknown-elf-"}
TOOLCHAINS = ("gcc", "clang", "tinygo")


@dataclass(frozen=True)
class Toolchain:
    """The programs one build uses, with the version line each reported."""

    kind: str                 # "gcc", "clang" or "tinygo"
    family: str               # "arm" or "riscv"
    cc: Path                  # compiler driver (also assembles .S files)
    linker: Path              # gcc: the driver; clang: ld.lld; tinygo: tinygo
    objcopy: Path
    versions: tuple[tuple[str, str], ...]
    libgcc: Path | None = None  # clang only: the gcc multilib's libgcc.a for helper routines
    root: Path | None = None    # tinygo only: TINYGOROOT (its targets/ and src/)

    @property
    def version(self) -> str:
        return self.versions[0][1]


def require(program: str, path: str | None) -> Path:
    """Absolute path of `program` on `path`, or a ToolchainError naming the package."""
    found = shutil.which(program, path=path)
    if found is None:
        fix = PACKAGES.get(program, f"install {program}")
        raise ToolchainError(f"{program} not found on PATH; fix: {fix}")
    return Path(found)


def version_line(program: Path, *args: str) -> str:
    """First line of `program --version` (the text a manifest records); `args` replace
    `--version` for a program that asks otherwise (TinyGo: `tinygo version`)."""
    args = args or ("--version",)
    try:
        result = subprocess.run([str(program), *args], capture_output=True, text=True,
                                timeout=30, check=False)
    except OSError as exc:
        raise ToolchainError(f"{program} cannot run ({exc.strerror}); fix: reinstall it") from None
    lines = (result.stdout or result.stderr).strip().splitlines()
    if result.returncode != 0 or not lines:
        raise ToolchainError(f"{program} {' '.join(args)} failed (exit {result.returncode}); "
                             "fix: reinstall it")
    return lines[0].strip()


def find_toolchain(profile: Profile, kind: str, path: str | None = None) -> Toolchain:
    """The toolchain of `kind` for the profile's CPU family, found on `path`."""
    family = profile.cpu.family
    if kind == "gcc":
        prefix = GCC_PREFIX[family]
        cc = require(prefix + "gcc", path)
        objcopy = require(prefix + "objcopy", path)
        return Toolchain(kind, family, cc, cc, objcopy, ((cc.name, version_line(cc)),))
    if kind == "clang":
        cc = require("clang", path)
        lld = require("ld.lld", path)
        objcopy = _first_of(("llvm-objcopy", GCC_PREFIX[family] + "objcopy"), path)
        versions = ((cc.name, version_line(cc)), (lld.name, version_line(lld)))
        return Toolchain(kind, family, cc, lld, objcopy, versions,
                         libgcc=_gcc_libgcc(profile, path))
    if kind == "tinygo":
        tinygo = require("tinygo", path)
        objcopy = _first_of(("llvm-objcopy", GCC_PREFIX[family] + "objcopy"), path)
        # TinyGo 0.33 has no --version ("Unknown command"); `tinygo env TINYGOROOT` is
        # where its targets/ and src/ are (extra-files are joined onto it).
        root = Path(version_line(tinygo, "env", "TINYGOROOT"))
        if not (root / "targets").is_dir():
            raise ToolchainError(f"{tinygo}: TINYGOROOT {root} has no targets/ directory; "
                                 "fix: reinstall TinyGo or set TINYGOROOT")
        return Toolchain(kind, family, tinygo, tinygo, objcopy,
                         ((tinygo.name, version_line(tinygo, "version")),), root=root)
    raise ToolchainError(f"unknown toolchain '{kind}'; fix: use one of {', '.join(TOOLCHAINS)}")


def _first_of(programs: tuple[str, ...], path: str | None) -> Path:
    for program in programs:
        found = shutil.which(program, path=path)
        if found:
            return Path(found)
    return require(programs[0], path)


def _gcc_libgcc(profile: Profile, path: str | None) -> Path | None:
    """libgcc.a of the matching gcc multilib, for the compiler helpers clang code calls.

    NOTE: assumes the Debian cross gcc is installed next to clang; without it clang builds
    link without helpers, which is fine until code needs e.g. 64-bit division.
    """
    gcc = shutil.which(GCC_PREFIX[profile.cpu.family] + "gcc", path=path)
    if gcc is None:
        return None
    result = subprocess.run([gcc, *gcc_multilib_flags(profile), "-print-libgcc-file-name"],
                            capture_output=True, text=True, timeout=30, check=False)
    candidate = Path(result.stdout.strip())
    return candidate if result.returncode == 0 and candidate.is_file() else None
