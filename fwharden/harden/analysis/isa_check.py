"""ISA/ABI check: is the ELF built for the board's core, and does it use the FPU it has?

Two ways code built for the wrong core shows: the build attributes (`.ARM.attributes`,
`.riscv.attributes`, RISC-V e_flags) say so, and instructions the core lacks are in the
code. The second is what faults at run time (UsageFault UNDEFINSTR/NOCP on Cortex-M,
illegal-instruction trap on RISC-V), so every function is disassembled and checked, not
only what the interrupt roots reach: a wrong-core library routine faults from main too.
The attributes are checked as well because they name the cause (the -mcpu/-mfpu/-march the
objects were built with), and, per object where the build lists them, which object.

`abi-soft-float` is the other trap: a build for a core with an FPU that calls the
soft-float helpers (`__aeabi_fmul`, `__mulsf3`, ...) for operations the FPU does in one
instruction. It runs, only ten times slower; a warning with the number of call sites.
Titles and reasons of both rules are in findings.py's catalogue.

Tag numbers and values: ARM IHI 0045 (Addenda to the ABI for the Arm Architecture, 2.5
"Attributes"); RISC-V ELF psABI "RISC-V ELF attributes" and "e_flags". Which instructions
each core has: ARMv7-M ARM (DDI 0403E) A5.3 and A7 (DSP extension = ARMv7E-M; FPv4-SP is
single precision only, FPv5 adds VSEL/VMAXNM/VRINT/VCVT{A,N,P,M}), ARMv6-M ARM (DDI 0419)
A5.2 (only BL, MSR, MRS, DMB, DSB, ISB, UDF are 32-bit).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import capstone

from fwharden.board_profiles import Profile
from fwharden.harden.elf.image import Function, Image, parse_elf, read_elf_bytes
from fwharden.harden.errors import HardenError
from fwharden.harden.isa.listing import Listing


def _words(text: str) -> frozenset[str]:
    """A set of names written as a whitespace-separated list (long tables stay readable)."""
    return frozenset(text.split())


_ARM_CS = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
_RV_CS = capstone.Cs(capstone.CS_ARCH_RISCV, capstone.CS_MODE_RISCV32 | capstone.CS_MODE_RISCVC)

# IHI 0045 2.5: Tag_CPU_arch (6) values and the M-profile cores that run each. Older
# architectures than v6-M are ARM-state code no Cortex-M runs.
CPU_ARCH_NAMES = {0: "pre-v4", 1: "v4", 2: "v4T", 3: "v5T", 4: "v5TE", 5: "v5TEJ", 6: "v6",
                  7: "v6KZ", 8: "v6T2", 9: "v6K", 10: "v7", 11: "v6-M", 12: "v6S-M",
                  13: "v7E-M", 14: "v8-A", 15: "v8-R", 16: "v8-M.baseline",
                  17: "v8-M.mainline", 18: "v8.1-A", 19: "v8.2-A", 20: "v8.3-A",
                  21: "v8.1-M.mainline", 22: "v9"}
_RUNS_ON = {"armv6-m": {11, 12}, "armv7-m": {10, 11, 12}, "armv7e-m": {10, 11, 12, 13},
            "armv8-m.main": {10, 11, 12, 13, 16, 17}}
# Tag_FP_arch (10): 0 none, 2 VFPv2, 3 VFPv3, 4 VFPv3-D16, 5 VFPv4, 6 VFPv4-D16, 7 FP-ARMv8,
# 8 FP-ARMv8-D16 (FPv5). Cortex-M FPUs have 16 double registers: 3, 5, 7 need 32.
FP_ARCH_NAMES = {0: "none", 1: "VFPv1", 2: "VFPv2", 3: "VFPv3", 4: "VFPv3-D16", 5: "VFPv4",
                 6: "VFPv4-D16", 7: "FP-ARMv8", 8: "FPv5/FP-D16 for ARMv8"}
_FP_ARCH_OK = {"fpv4-sp-d16": {2, 4, 6}, "fpv5-sp-d16": {2, 4, 6, 8}, "fpv5-d16": {2, 4, 6, 8}}
_SP_ONLY = {"fpv4-sp-d16", "fpv5-sp-d16"}
HARDFP_SP = 1          # Tag_ABI_HardFP_use (27) = 1: single precision only
VFP_ARGS_VFP = 1       # Tag_ABI_VFP_args (28) = 1: arguments in VFP registers

# ARMv7E-M DSP extension (DDI 0403E A4.?, the instructions marked "ARMv7E-M" in A7.7).
DSP = _words("""
    sadd16 sadd8 sasx ssax ssub16 ssub8 qadd qadd16 qadd8 qasx qdadd qdsub qsax qsub qsub16
    qsub8 shadd16 shadd8 shasx shsax shsub16 shsub8 uadd16 uadd8 uasx usax usub16 usub8
    uhadd16 uhadd8 uhasx uhsax uhsub16 uhsub8 uqadd16 uqadd8 uqasx uqsax uqsub16 uqsub8
    usad8 usada8 ssat16 usat16 sel pkhbt pkhtb smlabb smlabt smlatb smlatt smlad smladx
    smlalbb smlalbt smlaltb smlaltt smlald smlaldx smlawb smlawt smlsd smlsdx smlsld smlsldx
    smmla smmlar smmls smmlsr smmul smmulr smuad smuadx smulbb smulbt smultb smultt smulwb
    smulwt smusd smusdx sxtab sxtab16 sxtah sxtb16 uxtab uxtab16 uxtah uxtb16 umaal
""")
_CONDS = _words("eq ne cs hs cc lo mi pl vs vc hi ls ge lt gt le al")
_FPV5_PREFIXES = ("vsel", "vmaxnm", "vminnm", "vrint")
_FPV5_EXACT = frozenset(("vcvta", "vcvtn", "vcvtp", "vcvtm"))
_V6M_WIDE = frozenset(("bl", "mrs", "msr", "dmb", "dsb", "isb", "udf"))
_IT = re.compile(r"it[te]{0,3}$")

# Soft-float helpers: RTABI (IHI 0043) 4.1.2 names and libgcc's generic names (RISC-V).
# 64-bit integer conversions (__aeabi_f2lz, __fixsfdi) are left out: no FPU does them.
SINGLE_HELPERS = _words("""
    __aeabi_fadd __aeabi_fsub __aeabi_frsub __aeabi_fmul __aeabi_fdiv __aeabi_fcmpeq
    __aeabi_fcmplt __aeabi_fcmple __aeabi_fcmpge __aeabi_fcmpgt __aeabi_fcmpun
    __aeabi_cfcmpeq __aeabi_cfcmple __aeabi_cfrcmple __aeabi_f2iz __aeabi_f2uiz __aeabi_i2f
    __aeabi_ui2f __addsf3 __subsf3 __mulsf3 __divsf3 __eqsf2 __nesf2 __ltsf2 __lesf2 __gtsf2
    __gesf2 __unordsf2 __fixsfsi __fixunssfsi __floatsisf __floatunsisf
""")
DOUBLE_HELPERS = _words("""
    __aeabi_dadd __aeabi_dsub __aeabi_drsub __aeabi_dmul __aeabi_ddiv __aeabi_dcmpeq
    __aeabi_dcmplt __aeabi_dcmple __aeabi_dcmpge __aeabi_dcmpgt __aeabi_dcmpun
    __aeabi_cdcmpeq __aeabi_cdcmple __aeabi_cdrcmple __aeabi_d2iz __aeabi_d2uiz __aeabi_i2d
    __aeabi_ui2d __aeabi_f2d __aeabi_d2f __adddf3 __subdf3 __muldf3 __divdf3 __eqdf2 __nedf2
    __ltdf2 __ledf2 __gtdf2 __gedf2 __unorddf2 __fixdfsi __fixunsdfsi __floatsidf
    __floatunsidf __extendsfdf2 __truncdfsf2
""")
_HELPERS = SINGLE_HELPERS | DOUBLE_HELPERS
# What each instruction class needs, by the first word of its scan reason.
_NEEDS = {"FPU": "an FPU", "double-precision": "a double-precision FPU (FPv5-D16)",
          "FPv5": "an FPv5 FPU", "DSP-extension": "the DSP extension (ARMv7E-M)",
          "32-bit": "ARMv7-M (Thumb-2)", "ARMv7-M": "ARMv7-M (Thumb-2)",
          "compressed": "the C extension", "D-extension": "the D extension",
          "F-extension": "the F extension", "A-extension": "the A extension"}

# RISC-V e_flags (psABI "e_flags"): RVC, float ABI in bits 1-2, RVE.
EF_RISCV_RVC, EF_RISCV_FLOAT_ABI, EF_RISCV_RVE = 0x1, 0x6, 0x8
_RV_FLOAT_ABI = {0: "soft", 2: "single", 4: "double", 6: "quad"}
_RV_ABI_NEEDS = {2: "f", 4: "d", 6: "q"}
# Multi-letter extensions that stand for single-letter ones the core must have.
_RV_Z_IMPLIES = {"zaamo": "a", "zalrsc": "a", "zca": "c", "zcf": "cf", "zcd": "cd",
                 "zfh": "f", "zfhmin": "f", "zmmul": "m"}
_RV_FCSRS = ("fflags", "frm", "fcsr")


@dataclass(frozen=True)
class IsaProblem:
    """One mismatch: `function` is None for a build attribute, `site` its first address."""

    rule: str                 # "isa-mismatch" or "abi-soft-float"
    function: str | None
    site: int | None
    message: str
    count: int = 1


@dataclass(frozen=True)
class Core:
    """What the board's core can execute, from its profile."""

    name: str
    arch: str
    fpu: str                  # "none", "fpv4-sp-d16", ... or the RISC-V letters' "f"/"d"
    dsp: bool = False
    letters: frozenset[str] = frozenset()   # RISC-V base and single-letter extensions

    @property
    def single(self) -> bool:
        return self.fpu != "none"

    @property
    def double(self) -> bool:
        return self.fpu == "fpv5-d16" or "d" in self.letters


def core_of(profile: Profile) -> Core:
    cpu = profile.cpu
    if cpu.family == "riscv":
        letters = riscv_letters(cpu.arch)
        fpu = "d" if "d" in letters else "f" if "f" in letters else "none"
        return Core(cpu.core, cpu.arch, fpu, letters=letters)
    # The DSP extension is part of ARMv7E-M; the catalog's Cortex-M33 implements it.
    return Core(cpu.core, cpu.arch, cpu.fpu, dsp=cpu.arch in ("armv7e-m", "armv8-m.main"))


def riscv_letters(arch: str) -> frozenset[str]:
    """Single-letter extensions of an ISA string: "rv32imac" and the attribute's long form
    "rv32i2p1_m2p0_a2p1_c2p0_zicsr2p0" alike; g stands for imafd."""
    text = arch.lower()
    if not text.startswith(("rv32", "rv64")):
        return frozenset()
    letters: set[str] = set()
    for index, part in enumerate(text[4:].split("_")):
        if not part:
            continue
        if index > 0 and part[0] in "zxs":
            letters.update(_RV_Z_IMPLIES.get(re.sub(r"\d+(p\d+)?$", "", part), ""))
            continue
        letters.update(re.sub(r"\d+(p\d+)?", "", part))
    if "g" in letters:
        letters.update("imafd")
    return frozenset(letters)


def check_isa(image: Image, profile: Profile | None,
              objects: Sequence[Path] = ()) -> list[IsaProblem]:
    """Every isa-mismatch and abi-soft-float problem of `image` against `profile`'s core;
    nothing without a profile (there is no core to compare with)."""
    if profile is None or profile.cpu.family != image.family:
        return []
    core = core_of(profile)
    fix = fix_flags(profile)
    problems = []
    for label, elf in _attribute_sources(image, objects):
        if image.family == "arm":
            problems += arm_attribute_problems(label, elf, core, fix)
        else:
            problems += riscv_attribute_problems(label, elf, core, fix)
    scan = arm_scan if image.family == "arm" else riscv_scan
    calls: dict[str, list[int]] = {}
    # A helper's own calls into another (__aeabi_fsub into __aeabi_fadd) are not counted;
    # its code is checked like any other (a wrong-core libgcc faults as well).
    helpers = {f.address: next(n for n in (f.name, *f.names) if n in _HELPERS)
               for f in image.functions if _HELPERS.intersection(f.names)}
    for func in image.functions:
        if not func.size:
            continue
        lacking: dict[str, list[tuple[int, str]]] = {}
        for address, size, mnemonic, ops in _instructions(image, func):
            why = scan(core, mnemonic, ops, size)
            if why is not None:
                lacking.setdefault(why, []).append((address, mnemonic))
            target = _direct_target(image.family, mnemonic, ops)
            if target in helpers and func.address not in helpers:
                calls.setdefault(helpers[target], []).append(address)
        for why, sites in lacking.items():
            shown = ", ".join(dict.fromkeys(m for _, m in sites))
            address, mnemonic = sites[0]
            problems.append(IsaProblem(
                "isa-mismatch", func.name, address,
                f"{func.name}: {mnemonic} at 0x{address:08x} needs {_NEEDS[why.split()[0]]}, "
                f"which {core.name} ({_describe_core(core)}) does not have; {len(sites)} "
                f"{why} in {func.name} ({shown}); fix: compile and link everything, "
                f"libraries too, with {fix}", len(sites)))
    problems += soft_float_problems(core, calls, fix)
    return problems


def fix_flags(profile: Profile) -> str:
    """The compiler flags that select the board's core, spelled as the toolchain package
    builds them (toolchain/flags.py; harden does not import it, see test_layers)."""
    cpu = profile.cpu
    if cpu.family == "riscv":
        return f"-march={cpu.arch} -mabi=ilp32"
    fpu = f" -mfpu={cpu.fpu}" if cpu.has_fpu and cpu.float_abi != "soft" else ""
    return f"-mcpu={cpu.core} -mthumb{fpu} -mfloat-abi={cpu.float_abi}"


def _describe_core(core: Core) -> str:
    if core.letters:
        return core.arch
    dsp = ", DSP" if core.dsp else ", no DSP"
    return f"{core.arch}{dsp}, FPU {core.fpu}"


def _attribute_sources(image: Image, objects: Sequence[Path]):
    """(label, ELFFile) of the linked ELF, then of every listed object that exists and
    parses (an object the build no longer has, or a damaged one, is skipped: the linked
    ELF, which holds their code, is checked either way)."""
    yield str(image.path), parse_elf(image.path, image.raw or read_elf_bytes(image.path))
    for obj in objects:
        if not obj.is_file():
            continue
        try:
            yield str(obj), parse_elf(obj, read_elf_bytes(obj))
        except HardenError:
            continue


def arm_attributes(elf) -> dict[str, int | str]:
    """The file-scope aeabi attributes of an ELF, by pyelftools' tag name (TAG_CPU_ARCH...)."""
    section = elf.get_section_by_name(".ARM.attributes")
    out: dict[str, int | str] = {}
    if section is None:
        return out
    for sub in section.iter_subsections():
        if sub.header["vendor_name"] != "aeabi":
            continue
        for subsub in sub.iter_subsubsections():
            if subsub.header.tag != "TAG_FILE":
                continue
            for attribute in subsub.iter_attributes():
                out[attribute.tag] = attribute.value
    return out


def arm_attribute_problems(label: str, elf, core: Core, fix: str) -> list[IsaProblem]:
    """Tag_CPU_arch/profile, Tag_FP_arch + Tag_ABI_HardFP_use and Tag_ABI_VFP_args against
    the core (IHI 0045 2.5.2-2.5.5)."""
    tags = arm_attributes(elf)
    if not tags:
        return []
    bad = []
    arch = tags.get("TAG_CPU_ARCH")
    if isinstance(arch, int) and arch not in _RUNS_ON.get(core.arch, {arch}):
        bad.append(f"Tag_CPU_arch {CPU_ARCH_NAMES.get(arch, arch)}, which {core.name} "
                   f"({core.arch}) does not run")
    profile = tags.get("TAG_CPU_ARCH_PROFILE")
    if isinstance(profile, int) and profile not in (0, ord("M"), ord("S")):
        bad.append(f"Tag_CPU_arch_profile {chr(profile)!r} (not the microcontroller profile)")
    fp = tags.get("TAG_FP_ARCH", 0)
    sp_only = tags.get("TAG_ABI_HARDFP_USE", 0) == HARDFP_SP
    if isinstance(fp, int) and fp:
        name = FP_ARCH_NAMES.get(fp, str(fp))
        if not core.single:
            bad.append(f"Tag_FP_arch {name}, but {core.name} has no FPU")
        elif fp not in _FP_ARCH_OK.get(core.fpu, set()):
            bad.append(f"Tag_FP_arch {name}, which {core.fpu} does not implement")
        elif core.fpu in _SP_ONLY and not sp_only:
            bad.append(f"Tag_FP_arch {name} with double precision allowed "
                       f"(Tag_ABI_HardFP_use not SP-only), but {core.fpu} is single precision")
    if tags.get("TAG_ABI_VFP_ARGS") == VFP_ARGS_VFP and not core.single:
        bad.append(f"Tag_ABI_VFP_args VFP registers (hard-float ABI), but {core.name} has no "
                   "FPU")
    return [IsaProblem("isa-mismatch", None, None,
                       f"{label}: built with {why}; fix: build with {fix}") for why in bad]


def riscv_attribute_problems(label: str, elf, core: Core, fix: str) -> list[IsaProblem]:
    """Tag_RISCV_arch and the e_flags float ABI / RVC bits against the core's letters."""
    bad = []
    section = elf.get_section_by_name(".riscv.attributes")
    if section is not None:
        for sub in section.iter_subsections():
            for subsub in sub.iter_subsubsections():
                for attribute in subsub.iter_attributes():
                    if attribute.tag == "TAG_ARCH" and isinstance(attribute.value, str):
                        extra = riscv_letters(attribute.value) - core.letters - {"g"}
                        if extra:
                            bad.append(f"Tag_RISCV_arch {attribute.value}: extension(s) "
                                       f"{', '.join(sorted(extra)).upper()} that {core.arch} "
                                       "lacks")
    flags = elf.header["e_flags"]
    abi = flags & EF_RISCV_FLOAT_ABI
    if abi and _RV_ABI_NEEDS[abi] not in core.letters:
        bad.append(f"the {_RV_FLOAT_ABI[abi]}-float ABI (e_flags 0x{flags:x}), which needs the "
                   f"{_RV_ABI_NEEDS[abi].upper()} extension {core.arch} lacks")
    if flags & EF_RISCV_RVC and "c" not in core.letters:
        bad.append(f"compressed instructions (e_flags RVC), which {core.arch} lacks")
    if flags & EF_RISCV_RVE and "e" not in core.letters:
        bad.append("the RV32E ABI (e_flags RVE)")
    return [IsaProblem("isa-mismatch", None, None,
                       f"{label}: built with {why}; fix: build with {fix}") for why in bad]


def _base(mnemonic: str) -> str:
    """The mnemonic without data types and width qualifiers: "vadd.f64" -> "vadd"."""
    return mnemonic.lower().split(".", 1)[0]


def _is(base: str, names: Iterable[str] | frozenset[str]) -> bool:
    """`base` is one of `names`, possibly with a condition code (inside an IT block)."""
    return base in names or (base[-2:] in _CONDS and base[:-2] in names)


def arm_scan(core: Core, mnemonic: str, ops: str, size: int) -> str | None:
    """Why `core` cannot execute this Thumb instruction, or None when it can."""
    text = mnemonic.lower()
    base = _base(text)
    if base.startswith("v"):
        if not core.single:
            return "FPU instructions on a core without an FPU"
        if "f64" in text and not core.double:
            return f"double-precision FPU instructions that {core.fpu} (single precision) lacks"
        if core.fpu.startswith("fpv4") and (base.startswith(_FPV5_PREFIXES)
                                            or base in _FPV5_EXACT):
            return f"FPv5 instructions that {core.fpu} lacks"
        return None
    if not core.dsp and _is(base, DSP):
        return f"DSP-extension instructions that {core.arch} lacks"
    if core.arch == "armv6-m":
        if size == 4 and base not in _V6M_WIDE:
            return "32-bit Thumb-2 instructions that ARMv6-M lacks"
        if base in ("cbz", "cbnz") or _IT.match(base):
            return "ARMv7-M instructions that ARMv6-M lacks"
    return None


def riscv_scan(core: Core, mnemonic: str, ops: str, size: int) -> str | None:
    """Why `core` cannot execute this RISC-V instruction, or None when it can."""
    text = mnemonic.lower()
    if text.startswith("c."):
        if "c" not in core.letters:
            return f"compressed instructions that {core.arch} lacks"
        text = text[2:]
    parts = text.split(".")
    if text.startswith("f") and parts[0] not in ("fence",):
        double = "d" in parts[1:] or parts[0] in ("fld", "fsd", "fldsp", "fsdsp")
        if double and "d" not in core.letters:
            return f"D-extension (double-precision) instructions that {core.arch} lacks"
        if "f" not in core.letters:
            return f"F-extension instructions that {core.arch} lacks"
        return None
    if text.startswith("csr") and "f" not in core.letters:
        first = ops.replace(" ", "").split(",")
        if any(name in first for name in _RV_FCSRS):
            return f"F-extension CSR accesses (fflags/frm/fcsr) that {core.arch} lacks"
    if (text.startswith("amo") or parts[0] in ("lr", "sc")) and "a" not in core.letters:
        return f"A-extension (atomic) instructions that {core.arch} lacks"
    return None


def soft_float_problems(core: Core, calls: dict[str, list[int]], fix: str) -> list[IsaProblem]:
    """One abi-soft-float problem per helper the FPU could replace, with its call count."""
    out = []
    for name, sites in sorted(calls.items()):
        if name in SINGLE_HELPERS and core.single:
            kind = "single"
        elif name in DOUBLE_HELPERS and core.double:
            kind = "double"
        else:
            continue
        fpu = core.fpu if not core.letters else f"the {core.fpu.upper()} extension"
        out.append(IsaProblem(
            "abi-soft-float", name, sites[0],
            f"{len(sites)} call(s) to the soft-float helper {name}, first at 0x{sites[0]:08x}, "
            f"in a build for {core.name} whose {fpu} does {kind}-precision arithmetic in "
            f"hardware; fix: build with {fix}", len(sites)))
    return out


def _instructions(image: Image, func: Function):
    """(address, size, mnemonic, operands) of a function's code, data ($d) skipped; an
    undecodable halfword is stepped over (the call graph reports it as `undecodable`)."""
    engine = _ARM_CS if image.family == "arm" else _RV_CS
    spans = image.code_spans(func)
    for start, end in spans:
        data = image.read(start, end - start)
        if data is None:
            continue
        address = start
        while address < end:
            items = Listing(engine, data, address, offset=address - start).items()
            yield from items
            address = items[-1][0] + items[-1][1] if items else address
            if address < end:
                address += 2


def _direct_target(family: str, mnemonic: str, ops: str) -> int | None:
    """The target of a direct call or tail branch (bl/b.w; jal/c.jal/j), else None."""
    text = mnemonic.lower()
    calls = ("bl", "b", "b.w", "blx") if family == "arm" else ("jal", "c.jal", "j", "c.j")
    if text not in calls:
        return None
    last = ops.replace(" ", "").split(",")[-1].lstrip("#")
    try:
        return int(last, 0)
    except ValueError:
        return None
