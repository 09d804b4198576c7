"""Issue 17 item 3: isa-mismatch and abi-soft-float on firmware built with the real compilers.

tests/firmware/isa/isa.c is built for one core and verified against a board with another;
each mismatch has a clean twin (the same source built for the board's own core). The
expected answers come from the compilers' own tools, not from fwharden: which functions
hold an instruction the board's core lacks is read from `objdump -d`, the build attributes
from `readelf -A`, the soft-float call counts from the `bl`/`jal` lines of the disassembly.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
from pathlib import Path

import pytest
from conftest import REPO

from fwharden.board_profiles import load_profile
from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.run import verify_elf
from fwharden.harden.errors import HardenError

SOURCE = REPO / "tests" / "firmware" / "isa"
OPTS = ("0", "2", "s")
ARM_BUILD = {
    "m7dp": "-mcpu=cortex-m7 -mfpu=fpv5-d16 -mfloat-abi=hard",
    "m4hard": "-mcpu=cortex-m4 -mfpu=fpv4-sp-d16 -mfloat-abi=hard",
    "m4soft": "-mcpu=cortex-m4 -mfloat-abi=soft",
    "m3": "-mcpu=cortex-m3 -mfloat-abi=soft",
    "m0": "-mcpu=cortex-m0 -mfloat-abi=soft",
}
RV_BUILD = {"rv32imafc": ("rv32imafc_zicsr", "ilp32f"), "rv32imafdc": ("rv32imafdc_zicsr", "ilp32d"),
            "rv32imac": ("rv32imac_zicsr", "ilp32"), "rv32imc": ("rv32imc_zicsr", "ilp32")}
# (build, board, instruction classes the board's core lacks, attribute text readelf shows)
MISMATCH = [
    ("m7dp", "stm32f407", {"f64"}, "Tag_FP_arch"),
    ("m4hard", "lm3s6965evb", {"fpu", "dsp"}, "Tag_CPU_arch"),
    ("m3", "microbit", {"thumb2"}, "Tag_CPU_arch"),
    ("rv32imafc", "sifive-e", {"rvf"}, "Tag_RISCV_arch"),
    ("rv32imafdc", "sifive-e", {"rvf"}, "Tag_RISCV_arch"),
    ("rv32imac", "rv32imc", {"rva"}, "Tag_RISCV_arch"),
]
CLEAN = [("m7dp", "mps2-an500"), ("m4hard", "stm32f407"), ("m3", "lm3s6965evb"),
         ("m0", "microbit"), ("rv32imac", "sifive-e"), ("rv32imc", "rv32imc")]
# (build, board, the soft-float helpers the source's operations need on that board's FPU)
SOFT = [("m4soft", "stm32f407", {"fmul", "fadd"}),
        ("m4soft", "mps2-an500", {"fmul", "fadd", "dmul", "dadd"})]
# RTABI name and libgcc's alias at the same address (the ELF may name either).
ALIASES = {"fmul": ("__aeabi_fmul", "__mulsf3"), "fadd": ("__aeabi_fadd", "__addsf3"),
           "dmul": ("__aeabi_dmul", "__muldf3"), "dadd": ("__aeabi_dadd", "__adddf3")}
ISA_RULES = ("isa-mismatch", "abi-soft-float")


def _profile(board: str):
    if board != "rv32imc":
        return load_profile(board)
    try:  # an ESP32-C3 profile (rv32imc, no A) where the catalog has one
        return load_profile("esp32c3")
    except HardenError:
        base = load_profile("sifive-e")
    except Exception:  # noqa: BLE001 - the loader's own error type for a missing profile
        base = load_profile("sifive-e")
    return dataclasses.replace(base, cpu=dataclasses.replace(base.cpu, arch="rv32imc"))


def _build(tmp: Path, build: str, opt: str, profile) -> tuple[Path, Path]:
    """Compile (with -fstack-usage, so verify finds the object beside its .su) and link."""
    out = tmp / f"{build}-O{opt}"
    out.mkdir(parents=True, exist_ok=True)
    flash = min((m for m in profile.memory if m.executable), key=lambda m: m.origin).origin
    ram = min((m for m in profile.memory if m.writable and m.origin != flash),
              key=lambda m: m.origin)
    script = out / "isa.ld"
    script.write_text((SOURCE / "isa.ld").read_text()
                      .replace("@FLASH@", hex(flash)).replace("@RAM@", hex(ram.origin))
                      .replace("@RAMLEN@", hex(min(ram.length, 0x10000))))
    if build in ARM_BUILD:
        cc, flags = "arm-none-eabi-gcc", ["-mthumb", *ARM_BUILD[build].split()]
        libs = ["-lgcc"]
    else:
        march, mabi = RV_BUILD[build]
        cc, flags = "riscv64-unknown-elf-gcc", [f"-march={march}", f"-mabi={mabi}",
                                                 "-mcmodel=medany"]
        # Debian's riscv64-unknown-elf-gcc has no rv32imc multilib: rv32im's libgcc (no A,
        # no C) runs on it.
        lib_march = "rv32im" if build == "rv32imc" else march.split("_")[0]
        libs = [subprocess.run([cc, f"-march={lib_march}", f"-mabi={mabi}",
                                "-print-libgcc-file-name"], check=True, capture_output=True,
                               text=True).stdout.strip()]
    obj = out / "isa.o"
    subprocess.run([cc, *flags, f"-O{opt}", "-g", "-ffreestanding", "-ffunction-sections", "-fstack-usage",
                    "-c", str(SOURCE / "isa.c"), "-o", str(obj)], check=True, cwd=out)
    elf = out / "isa.elf"
    subprocess.run([cc, *flags, "-nostdlib", "-T", str(script), str(obj), *libs, "-o",
                    str(elf)], check=True)
    return elf, out / "isa.su"


def _tool(elf: Path, tool: str) -> str:
    prefix = "arm-none-eabi-" if "arm" in subprocess.run(
        ["file", str(elf)], capture_output=True, text=True).stdout.lower() else \
        "riscv64-unknown-elf-"
    return subprocess.run([prefix + tool, *(["-d"] if tool == "objdump" else ["-A"]), str(elf)],
                          check=True, capture_output=True, text=True).stdout


def _disassembly(elf: Path) -> list[tuple[str, int, str, str, str]]:
    """(function, address, raw hex, mnemonic, operands) of every instruction objdump shows."""
    out, func = [], "?"
    for line in _tool(elf, "objdump").splitlines():
        head = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if head:
            func = head.group(1)
            continue
        m = re.match(r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{4,8} ?)+)\s+(\S+)\s*(.*)$", line)
        if m:
            out.append((func, int(m.group(1), 16), m.group(2).strip(), m.group(3), m.group(4)))
    return out


def _lacks(kind: str, raw: str, mnemonic: str) -> bool:
    """The oracle's own reading of what a core lacks (ARM DDI 0403E, DDI 0419, RISC-V spec)."""
    m = mnemonic.lower()
    if kind == "f64":
        return ".f64" in m
    if kind == "fpu":
        return m.startswith("v")
    if kind == "dsp":
        return m in ("qadd8", "smlad")
    if kind == "thumb2":  # two halfwords, and not one of ARMv6-M's six 32-bit instructions
        return (len(raw.split()) == 2 and m.split(".")[0] not in
                ("bl", "mrs", "msr", "dmb", "dsb", "isb", "udf")) or m in ("cbz", "cbnz") \
            or re.fullmatch(r"it[te]{0,3}", m) is not None
    if kind == "rvf":
        return m.startswith("f") and not m.startswith("fence")
    if kind == "rva":
        return m.startswith(("amo", "lr.", "sc."))
    raise AssertionError(kind)


def _isa(findings, rule: str):
    return [f for f in findings if f.rule == rule]


@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize(("build", "board", "kinds", "tag"), MISMATCH,
                         ids=[f"{b}-on-{d}" for b, d, _, _ in MISMATCH])
def test_mismatch_names_every_function_objdump_shows(tmp_path, build, board, kinds, tag, opt):
    profile = _profile(board)
    elf, su = _build(tmp_path, build, opt, profile)
    result = verify_elf(elf, profile, HardenPolicy(), [su])
    found = _isa(result.findings, "isa-mismatch")
    expected = {func for func, _a, raw, mnem, _o in _disassembly(elf)
                if any(_lacks(k, raw, mnem) for k in kinds)}
    assert expected, "the fixture has no instruction the core lacks: the oracle sees none"
    sites = {f.callee for f in found if f.site is not None}
    assert sites == expected
    assert all(f.severity == "error" and f.line for f in found if f.site is not None)
    # The build attribute readelf shows is named, for the ELF and for the object.
    shown = _tool(elf, "readelf")
    value = re.search(rf"{tag}: (.+)", shown).group(1).strip().strip('"')
    attrs = [f.message for f in found if f.site is None]
    assert any(str(elf) in m and value in m for m in attrs), (value, attrs)
    assert any(str(su.with_suffix(".o")) in m for m in attrs), attrs
    assert result.verdict == "fail"


@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize(("build", "board"), CLEAN, ids=[f"{b}-on-{d}" for b, d in CLEAN])
def test_clean_twin_has_no_isa_finding(tmp_path, build, board, opt):
    profile = _profile(board)
    elf, su = _build(tmp_path, build, opt, profile)
    result = verify_elf(elf, profile, HardenPolicy(), [su])
    assert [f.message for f in result.findings if f.rule in ISA_RULES] == []


@pytest.mark.parametrize("opt", OPTS)
@pytest.mark.parametrize(("build", "board", "ops"), SOFT, ids=[f"{b}-on-{d}" for b, d, _ in SOFT])
def test_soft_float_counts_the_calls_objdump_shows(tmp_path, build, board, ops, opt):
    profile = _profile(board)
    elf, su = _build(tmp_path, build, opt, profile)
    result = verify_elf(elf, profile, HardenPolicy(), [su])
    found = {f.callee: f for f in _isa(result.findings, "abi-soft-float")}
    listing = _disassembly(elf)
    names = {n for op in ops for n in ALIASES[op]}
    # objdump names the call target `<name>`; count calls from outside the helpers.
    expected: dict[str, int] = {}
    for func, _a, _r, mnem, operands in listing:
        target = re.search(r"<([^>+]+)>", operands)
        if (mnem in ("bl", "b.w", "b") and target and target.group(1) in names
                and not func.startswith("__")):
            op = next(o for o in ops if target.group(1) in ALIASES[o])
            expected[op] = expected.get(op, 0) + 1
    assert set(expected) == ops, expected
    got = {next(o for o in ALIASES if f.callee in ALIASES[o]): f for f in found.values()}
    assert set(got) == ops
    for op, count in expected.items():
        assert f"{count} call(s)" in got[op].message and got[op].severity == "warning"
    assert not _isa(result.findings, "isa-mismatch")
