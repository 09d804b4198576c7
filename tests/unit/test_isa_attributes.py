"""isa_check on hand-built build-attribute sections (no cross compiler).

Each ELF here is written byte by byte: an ELF32 header, `.shstrtab` and one attributes
section laid out as ARM IHI 0045 2.2 says ('A', then a subsection: uint32 length, vendor
"aeabi" NUL-terminated, then the File sub-subsection: tag 1, uint32 size, attributes as
ULEB128 tag/value pairs, NUL-terminated strings for the string tags). RISC-V uses the same
layout with vendor "riscv" (psABI "RISC-V ELF attributes": Tag_RISCV_arch = 5, a string).
The tag values are the ones `readelf -A` prints for the flags named beside them.
"""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from fwharden.board_profiles import load_profile
from fwharden.harden.analysis.isa_check import (
    arm_attribute_problems,
    arm_attributes,
    arm_scan,
    core_of,
    riscv_attribute_problems,
    riscv_letters,
    riscv_scan,
)
from fwharden.harden.elf.image import parse_elf, read_elf_bytes

EM_ARM, EM_RISCV = 40, 243
SHT_ATTRIBUTES = 0x70000003  # SHT_ARM_ATTRIBUTES and SHT_RISCV_ATTRIBUTES alike


def uleb(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def attributes(vendor: str, pairs: list[tuple[int, int | str]]) -> bytes:
    body = b"".join(uleb(tag) + (value.encode() + b"\0" if isinstance(value, str)
                                 else uleb(value)) for tag, value in pairs)
    file_sub = uleb(1) + struct.pack("<I", 1 + 4 + len(body)) + body
    name = vendor.encode() + b"\0"
    return b"A" + struct.pack("<I", 4 + len(name) + len(file_sub)) + name + file_sub


def elf_in_memory(path: Path):
    return parse_elf(path, read_elf_bytes(path))


def elf(tmp_path: Path, machine: int, name: str, content: bytes, flags: int = 0) -> Path:
    shstr = b"\0.shstrtab\0" + name.encode() + b"\0"
    data_off = 52
    shstr_off = data_off + len(content)
    sh_off = (shstr_off + len(shstr) + 3) & ~3
    header = (b"\x7fELF\x01\x01\x01" + b"\0" * 9
              + struct.pack("<HHIIIIIHHHHHH", 1, machine, 1, 0, 0, sh_off, flags, 52, 0, 0,
                            40, 3, 1))
    sections = (b"\0" * 40
                + struct.pack("<IIIIIIIIII", 1, 3, 0, 0, shstr_off, len(shstr), 0, 0, 1, 0)
                + struct.pack("<IIIIIIIIII", 11, SHT_ATTRIBUTES, 0, 0, data_off, len(content),
                              0, 0, 1, 0))
    raw = header + content + shstr
    raw += b"\0" * (sh_off - len(raw)) + sections
    path = tmp_path / "x.o"
    path.write_bytes(raw)
    return path


# Tag_CPU_arch 6, Tag_CPU_arch_profile 7, Tag_FP_arch 10, Tag_ABI_HardFP_use 27,
# Tag_ABI_VFP_args 28, Tag_CPU_name 5 (string).
M7_DP = [(5, "7E-M"), (6, 13), (7, ord("M")), (10, 8), (28, 1)]      # -mcpu=cortex-m7 fpv5-d16
M4_SP = [(5, "7E-M"), (6, 13), (7, ord("M")), (10, 6), (27, 1), (28, 1)]  # fpv4-sp-d16 hard
M3_SOFT = [(5, "7-M"), (6, 10), (7, ord("M"))]


def _arm(tmp_path, pairs, board):
    path = elf(tmp_path, EM_ARM, ".ARM.attributes", attributes("aeabi", pairs))
    parsed = elf_in_memory(path)
    return arm_attribute_problems("x.o", parsed, core_of(load_profile(board)), "FIX")


def test_parser_reads_the_tags_as_written(tmp_path) -> None:
    path = elf(tmp_path, EM_ARM, ".ARM.attributes", attributes("aeabi", M4_SP))
    tags = arm_attributes(elf_in_memory(path))
    assert tags["TAG_CPU_ARCH"] == 13 and tags["TAG_FP_ARCH"] == 6
    assert tags["TAG_ABI_HARDFP_USE"] == 1 and tags["TAG_ABI_VFP_ARGS"] == 1
    assert tags["TAG_CPU_NAME"] == "7E-M"


def test_fpv5_double_build_on_fpv4_single_core(tmp_path) -> None:
    problems = _arm(tmp_path, M7_DP, "stm32f407")
    assert [p.rule for p in problems] == ["isa-mismatch"]
    assert "FPv5" in problems[0].message and "fpv4-sp-d16" in problems[0].message


def test_fpv4_with_double_allowed_on_single_core(tmp_path) -> None:
    problems = _arm(tmp_path, [(6, 13), (7, ord("M")), (10, 6), (28, 1)], "stm32f407")
    assert len(problems) == 1 and "single precision" in problems[0].message


def test_v7em_hard_float_on_cortex_m3(tmp_path) -> None:
    problems = _arm(tmp_path, M4_SP, "lm3s6965evb")
    text = " | ".join(p.message for p in problems)
    assert len(problems) == 3, text  # arch v7E-M, an FPU, the VFP argument ABI
    assert "v7E-M" in text and "no FPU" in text and "VFP registers" in text


@pytest.mark.parametrize(("pairs", "board"), [(M4_SP, "stm32f407"), (M7_DP, "mps2-an500"),
                                              (M3_SOFT, "lm3s6965evb"), (M3_SOFT, "stm32f407"),
                                              (M4_SP, "mps2-an500")])
def test_matching_or_compatible_build_is_clean(tmp_path, pairs, board) -> None:
    assert _arm(tmp_path, pairs, board) == []


def test_v7m_on_v6m_and_a_profile(tmp_path) -> None:
    assert len(_arm(tmp_path, M3_SOFT, "microbit")) == 1
    problems = _arm(tmp_path, [(6, 10), (7, ord("A"))], "lm3s6965evb")
    assert len(problems) == 1 and "'A'" in problems[0].message


def _rv(tmp_path, arch: str | None, flags: int, arch_board: str = "rv32imac"):
    content = attributes("riscv", [(4, 16), (5, arch)] if arch else [(4, 16)])
    path = elf(tmp_path, EM_RISCV, ".riscv.attributes", content, flags)
    core = core_of(load_profile("sifive-e"))
    if arch_board != core.arch:
        core = type(core)(core.name, arch_board, "none", letters=riscv_letters(arch_board))
    return riscv_attribute_problems("x.o", elf_in_memory(path), core, "FIX")


def test_riscv_float_abi_and_arch_string(tmp_path) -> None:
    # rv32imafc/ilp32f as gcc 12 writes it: e_flags 0x3 (RVC, single-float ABI).
    problems = _rv(tmp_path, "rv32i2p1_m2p0_a2p1_f2p2_c2p0_zicsr2p0_zmmul1p0", 0x3)
    text = " | ".join(p.message for p in problems)
    assert len(problems) == 2 and "F that rv32imac lacks" in text and "single-float" in text
    assert _rv(tmp_path, "rv32i2p1_m2p0_a2p1_c2p0_zicsr2p0", 0x1) == []


def test_riscv_atomics_on_rv32imc(tmp_path) -> None:
    problems = _rv(tmp_path, "rv32i2p1_m2p0_a2p1_c2p0", 0x1, "rv32imc")
    assert len(problems) == 1 and "A that rv32imc lacks" in problems[0].message
    assert _rv(tmp_path, "rv32i2p1_m2p0_c2p0_zicsr2p0", 0x1, "rv32imc") == []
    # No C on the core: the RVC e_flags bit is the mismatch.
    assert len(_rv(tmp_path, None, 0x1, "rv32im")) == 1


def test_letters() -> None:
    assert riscv_letters("rv32imac") == frozenset("imac")
    assert riscv_letters("rv32i2p1_m2p0_zaamo1p0_zca1p0") == frozenset("imac")
    assert riscv_letters("rv32gc") >= frozenset("imafdc")


@pytest.mark.parametrize(("board", "mnemonic", "size", "lacking"), [
    ("stm32f407", "vadd.f64", 4, "double-precision"),
    ("stm32f407", "vmul.f32", 4, None),
    ("stm32f407", "vrinta.f32", 4, "FPv5"),
    ("mps2-an500", "vfma.f64", 4, None),
    ("lm3s6965evb", "vldr", 4, "without an FPU"),
    ("lm3s6965evb", "smlad", 4, "DSP"),
    ("lm3s6965evb", "qadd8", 4, "DSP"),
    ("lm3s6965evb", "uadd8eq", 4, "DSP"),   # inside an IT block
    ("lm3s6965evb", "smlal", 4, None),      # ARMv7-M base, not DSP
    ("stm32f407", "smlad", 4, None),
    ("microbit", "ldr.w", 4, "32-bit"),
    ("microbit", "bl", 4, None),
    ("microbit", "cbz", 2, "ARMv7-M"),
    ("microbit", "ite", 2, "ARMv7-M"),
])
def test_arm_instruction_classes(board, mnemonic, size, lacking) -> None:
    why = arm_scan(core_of(load_profile(board)), mnemonic, "", size)
    assert (why is None) if lacking is None else (lacking in why)


@pytest.mark.parametrize(("mnemonic", "ops", "lacking"), [
    ("fadd.s", "fa0, fa0, fa1", "F-extension"), ("fld", "fa0, 0(a0)", "D-extension"),
    ("c.flw", "fa0, 0(a0)", "F-extension"), ("fence", "", None), ("fence.i", "", None),
    ("csrr", "a0, fcsr", "CSR"), ("csrr", "a0, mstatus", None),
    ("amoadd.w", "a0, a1, (a2)", "A-extension"), ("lr.w.aq", "a0, (a1)", "A-extension"),
])
def test_riscv_instruction_classes_on_rv32imc(mnemonic, ops, lacking) -> None:
    core = core_of(load_profile("sifive-e"))
    core = type(core)(core.name, "rv32imc", "none", letters=riscv_letters("rv32imc"))
    why = riscv_scan(core, mnemonic, ops, 4)
    assert (why is None) if lacking is None else (lacking in why)
