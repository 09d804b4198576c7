"""`Profile -> Flags`: compile and link command-line flags for gcc and clang.

Every build compiles with -ffunction-sections -fdata-sections -fstack-usage and links with
--gc-sections and a map file, because the post-link analysis reads per-function sections,
the .su frame sizes and the map. Must not: run programs or print.
"""

from __future__ import annotations

from dataclasses import dataclass

from fwharden.board_profiles import Profile

from .errors import ToolchainError

# clang target triples per architecture (LLVM's ARM and RISC-V backends).
CLANG_TRIPLES = {
    "armv6-m": "thumbv6m-none-eabi",
    "armv7-m": "thumbv7m-none-eabi",
    "armv7e-m": "thumbv7em-none-eabi",
    "armv8-m.main": "thumbv8m.main-none-eabi",
}
COMMON_CFLAGS = (
    "-g",
    "-ffreestanding",
    "-fno-builtin",
    "-fno-common",
    "-ffunction-sections",
    "-fdata-sections",
    "-fstack-usage",
    "-Wall",
)
# GCC turns copy/zero loops into memcpy/memset calls unless told not to; with -nostdlib
# there is no memcpy to call (the startup's own .data/.bss loops would call themselves).
GCC_ONLY_CFLAGS = ("-fno-tree-loop-distribute-patterns",)
LIBC_LINK = {
    "none": ("-nostdlib",),
    "newlib-nano": ("--specs=nano.specs", "--specs=nosys.specs"),
    "picolibc": ("--specs=picolibc.specs",),
}
# picolibc's specs file also points the preprocessor at picolibc's headers (and its own
# picolibc.h configuration): without it at compile time, an ARM build compiles against
# newlib's headers and a RISC-V build finds no <stdio.h> at all.
LIBC_COMPILE = {"none": (), "newlib-nano": (), "picolibc": ("--specs=picolibc.specs",)}


@dataclass(frozen=True)
class Flags:
    """What a compile and a link need beyond the file names."""

    arch: tuple[str, ...]        # CPU selection, shared by compile, assemble and gcc link
    cflags: tuple[str, ...]      # C compile flags (arch included)
    asflags: tuple[str, ...]     # preprocessed assembly (.S) through the compiler driver
    defines: tuple[str, ...]     # -D values (without -D)
    ldflags: tuple[str, ...]     # link flags (script and map included)
    libs: tuple[str, ...]        # libraries, after the objects


def gcc_multilib_flags(profile: Profile) -> tuple[str, ...]:
    """Flags that select the gcc multilib (so -print-libgcc-file-name finds the right one).

    NOTE: Debian's riscv64-unknown-elf-gcc has an rv32imac/ilp32 multilib but not one
    spelled with _zicsr, so the multilib is asked for without the extension suffix.
    """
    if profile.cpu.family == "riscv":
        return (f"-march={profile.cpu.arch}", "-mabi=ilp32")
    return _arm_cpu_flags(profile)


def _arm_cpu_flags(profile: Profile) -> tuple[str, ...]:
    cpu = profile.cpu
    flags = [f"-mcpu={cpu.core}", "-mthumb"]
    if cpu.has_fpu and cpu.float_abi != "soft":
        flags.append(f"-mfpu={cpu.fpu}")
    flags.append(f"-mfloat-abi={cpu.float_abi}")
    return tuple(flags)


def arch_flags(profile: Profile, kind: str) -> tuple[str, ...]:
    """CPU selection for `kind` ("gcc" or "clang")."""
    cpu = profile.cpu
    if cpu.family == "riscv":
        # binutils 2.40 wants the Zicsr extension named for csrr/csrw; clang 14 does not
        # know the name yet and accepts CSR instructions without it.
        march = f"{cpu.arch}_zicsr" if kind == "gcc" else cpu.arch
        flags = [f"-march={march}", "-mabi=ilp32", "-mcmodel=medany"]
        if kind == "clang":
            # ld.lld 14 cannot relax RISC-V code and rejects R_RISCV_ALIGN otherwise.
            flags = ["--target=riscv32-unknown-elf", *flags, "-mno-relax"]
        return tuple(flags)
    flags = list(_arm_cpu_flags(profile))
    if kind == "clang":
        triple = CLANG_TRIPLES[cpu.arch]
        if cpu.float_abi == "hard" and cpu.arch != "armv6-m":
            triple += "hf"
        flags.insert(0, f"--target={triple}")
    return tuple(flags)


def board_defines(profile: Profile) -> tuple[str, ...]:
    """Macros the runtime and the example key on; derived from the profile only."""
    board = profile.name.upper().replace("-", "_")
    defines = [
        f"FWH_BOARD_{board}=1",
        f'FWH_BOARD_NAME="{profile.name}"',
        f"FWH_ARCH_{profile.cpu.family.upper()}=1",
        f"FWH_IRQ_{profile.interrupts.controller.upper()}=1",
        f"FWH_PRIO_BITS={profile.interrupts.priority_bits}",
        f"FWH_IRQ_COUNT={profile.interrupts.irq_count}",
        # What arms the guards: pmsav7 / pmsav8 (MPU), pmp, or none (runtime/cortex_m/guard.c).
        f"FWH_PROTECTION_{profile.protection.kind.upper()}=1",
    ]
    if profile.cpu.has_fpu and profile.cpu.float_abi != "soft":
        defines.append("FWH_HAS_FPU=1")
    console = profile.console
    if console.kind == "semihosting":
        defines.append("FWH_CONSOLE_SEMIHOSTING=1")
    elif console.kind == "uart":
        defines += [f"FWH_CONSOLE_UART_{console.uart.upper()}=1",
                    f"FWH_CONSOLE_UART_BASE=0x{console.base:08X}u"]
        if console.setup:
            defines.append("FWH_CONSOLE_SETUP=1")  # runtime/<setup>/console_setup.c
    if profile.qemu is not None:
        # Under QEMU the run ends through semihosting, whatever the console is.
        defines.append("FWH_EXIT_SEMIHOSTING=1")
    return tuple(defines)


def build_flags(
    profile: Profile,
    kind: str,
    *,
    opt: str = "2",
    libc: str = "none",
    linker_script: str,
    map_file: str,
    libgcc: str | None = None,
    prefix_maps: tuple[tuple[str, str], ...] = (),
) -> Flags:
    """Compile and link flags for a C build with gcc or clang."""
    if kind == "clang" and libc != "none":
        raise ToolchainError(f"libc '{libc}' is only wired up for gcc builds; fix: set libc = \"none\" "
                             "or build with toolchain=gcc")
    arch = arch_flags(profile, kind)
    common = COMMON_CFLAGS + (GCC_ONLY_CFLAGS if kind == "gcc" else ())
    # Reproducible builds: source paths in debug info and __FILE__ are written relative
    # to the project (and fwharden's runtime), and GCC does not record its command line
    # (which holds those absolute paths) in DW_AT_producer.
    maps = tuple(f"-ffile-prefix-map={path}={new}" for path, new in prefix_maps)
    if kind == "gcc":
        maps += ("-gno-record-gcc-switches",)
    libc_compile = LIBC_COMPILE[libc] if kind == "gcc" else ()
    cflags = (*arch, f"-O{opt}", *common, *maps, *libc_compile)
    # GNU as writes its own debug info for .S files: it needs the maps too.
    # (clang 14's integrated assembler ignores the maps for the compilation directory.)
    if kind == "gcc":
        as_maps = tuple(f"-Wa,--debug-prefix-map={path}={new}" for path, new in prefix_maps)
    else:
        as_maps = ("-fdebug-compilation-dir=.",) if prefix_maps else ()
    asflags = (*arch, "-g", *maps, *as_maps, *libc_compile, "-x", "assembler-with-cpp")
    if kind == "gcc":
        ldflags = (*arch, "-nostartfiles", *LIBC_LINK[libc], "-Wl,--gc-sections",
                   f"-Wl,-Map={map_file}", "-T", linker_script)
        libs = ("-lc", "-lgcc") if libc != "none" else ("-lgcc",)
    else:
        # clang objects are linked by ld.lld directly: no driver, no default libraries.
        ldflags = ("--gc-sections", f"-Map={map_file}", "-T", linker_script)
        libs = (libgcc,) if libgcc else ()
    return Flags(arch=arch, cflags=cflags, asflags=asflags, defines=board_defines(profile),
                 ldflags=ldflags, libs=libs)
