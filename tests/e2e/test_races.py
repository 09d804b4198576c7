"""Issue 17 item 1: isr-data-race on fixtures built with the real compilers.

tests/firmware/races/races.c has one pair of variables per rule, racy and race-free. The
expected answer per variable is the table below, the fixture's declared truth: each row
was checked by hand against `objdump -d` of the -O0, -O2 and -Os builds (the load and
store of the update, or the two word accesses, are where the row says, outside or inside
the masked span), never taken from fwharden's output.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from conftest import REPO

from fwharden.board_profiles import load_profile
from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.run import verify_elf

SOURCE = REPO / "tests" / "firmware" / "races"
OPTS = ("0", "2", "s")
PRIORITIES = (("HI_IRQHandler", 1), ("LO_IRQHandler", 3), ("EQA_IRQHandler", 2),
              ("EQB_IRQHandler", 2))
# variable -> (race on Cortex-M4?, race on RV32IMAC?, the victim function, why)
TRUTH = {
    "racy_rmw": (True, True, "main", "x++ in main (ldr/adds/str, lw/addi/sw), HI stores it"),
    "safe_rmw_cs": (False, False, "main", "x++ between cpsid i and cpsie i / csrci, csrsi"),
    "safe_rmw_call": (False, False, "main", "x++ between calls to lock_irqs/unlock_irqs"),
    "racy_wide": (True, True, "main", "64-bit read: ldrd (two word accesses) / two lw"),
    "safe_wide_primask": (False, False, "main", "mrs primask; cpsid i ... msr primask / "
                                                "csrrci ... csrw mstatus"),
    "racy_pair": (True, True, "main", "struct copy: ldm/ldrd/two ldr, HI writes .a and .b"),
    "safe_pair_basepri": (False, False, "main", "BASEPRI 1<<5 masks priority 1 (HI); "
                                                 "on RISC-V main does not read it"),
    "racy_pair_weak": (True, True, "main", "BASEPRI 2<<5 leaves HI (priority 1) unmasked; "
                                            "on RISC-V a plain copy"),
    "safe_ldrex": (False, False, "main", "LDREX/STREX loop / amoadd.w"),
    "safe_atomic": (False, False, "main", "__atomic_fetch_add: ldrex/strex / amoadd.w.aqrl"),
    "safe_word": (False, False, "main", "one aligned word load"),
    "racy_arg": (True, True, "bump", "bump(&racy_arg): ldr/str through r0 / a0"),
    "safe_arg": (False, False, "bump", "bump(&safe_arg) inside cpsid/cpsie"),
    "nest_counter": (True, False, "LO_IRQHandler", "LO (3) increments, HI (1) preempts it; "
                                                    "RISC-V traps clear MIE: no nesting"),
    "safe_equal": (False, False, "EQB_IRQHandler", "EQA and EQB both priority 2"),
}


def _build(out: Path, arch: str, opt: str) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    flash, ram = ("0x0", "0x20000000") if arch == "arm" else ("0x20400000", "0x80000000")
    script = out / "races.ld"
    script.write_text((REPO / "tests" / "firmware" / "isa" / "isa.ld").read_text()
                      .replace("@FLASH@", flash).replace("@RAM@", ram)
                      .replace("@RAMLEN@", "0x4000"))
    if arch == "arm":
        cc, flags, libs = "arm-none-eabi-gcc", ["-mthumb", "-mcpu=cortex-m4"], ["-lgcc"]
    else:
        cc, flags, libs = "riscv64-unknown-elf-gcc", ["-march=rv32imac_zicsr",
                                                      "-mabi=ilp32"], []
    obj, elf = out / "races.o", out / "races.elf"
    subprocess.run([cc, *flags, f"-O{opt}", "-g", "-ffreestanding", "-ffunction-sections",
                    "-c", str(SOURCE / "races.c"), "-o", str(obj)], check=True)
    subprocess.run([cc, *flags, "-nostdlib", "-T", str(script), str(obj), *libs, "-o",
                    str(elf)], check=True)
    return elf


BUILDS = [(arch, opt) for arch in ("arm", "riscv") for opt in OPTS]


@pytest.fixture(scope="module", params=BUILDS, ids=[f"{a}-O{o}" for a, o in BUILDS])
def verified(request, tmp_path_factory):
    arch, opt = request.param
    elf = _build(tmp_path_factory.mktemp(f"races-{arch}-{opt}"), arch, opt)
    board = "mps2-an386" if arch == "arm" else "sifive-e"
    result = verify_elf(elf, load_profile(board), HardenPolicy(priorities=PRIORITIES))
    return arch, result


def _variable(message: str) -> str:
    return message.split(":", 1)[0].split(" ")[0].split(".")[0]


def test_every_race_in_the_table_is_found_and_no_other(verified) -> None:
    arch, result = verified
    column = 0 if arch == "arm" else 1
    races = [f for f in result.findings if f.rule == "isr-data-race"]
    found = {_variable(f.message) for f in races}
    expected = {name for name, row in TRUTH.items() if row[column]}
    assert found == expected, {n: TRUTH[n][3] for n in found ^ expected}
    for finding in races:
        row = TRUTH[_variable(finding.message)]
        assert finding.callee == row[2]
        assert finding.severity == "error" and finding.line is not None
        # Both sites with file:line, the writing handler with its priority, the fix.
        assert finding.message.count("races.c:") >= 2, finding.message
        assert "HI_IRQHandler" in finding.message
        if arch == "arm":
            assert "(priority 1)" in finding.message
        assert "fwh_ring_push" in finding.reason and "critical section" in finding.reason


def test_shared_key_turns_a_race_into_a_note(tmp_path) -> None:
    elf = _build(tmp_path / "arm", "arm", "2")
    policy = HardenPolicy(priorities=PRIORITIES,
                          shared=(("racy_rmw", "written only before interrupts start"),
                                  ("no_such_variable", "typo")))
    result = verify_elf(elf, load_profile("mps2-an386"), policy)
    races = {_variable(f.message) for f in result.findings if f.rule == "isr-data-race"}
    assert "racy_rmw" not in races and "racy_wide" in races
    notes = [f for f in result.findings if f.rule == "shared"]
    assert notes and all(f.severity == "note" for f in notes)
    assert any("written only before interrupts start" in f.message for f in notes)
    assert any("no_such_variable" in f.message and f.rule == "unused-setting"
               for f in result.findings)
