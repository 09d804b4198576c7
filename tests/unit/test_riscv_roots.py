"""Issue 11 item 2 (RISC-V): an ECLIC table whose reserved first entries hold instructions.

GD32VF103 (Nuclei SDK) start-up code begins `vector_base` with `j _start` and more
instructions where ECLIC entries 0-2 are reserved; mtvt points at it (CSR 0x307, Nuclei
ECLIC spec), mtvec = trap | 3 (CLIC mode).
"""

from __future__ import annotations

from synth import image, words

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.roots import find_roots
from fwharden.harden.analysis.verify import verify

# .option norelax
# _start @ 0x20000100: la t0, vector_base; csrw 0x307, t0; la t0, trap; ori t0, t0, 3;
#                      csrw mtvec, t0; 1: j 1b
# (.balign 64)  trap @ 0x20000140: mret
# msip @ 0x20000144: tail malloc;  mtip @ 0x2000014c: ret;  malloc @ 0x2000014e: ret
CODE = ("97020000938202f073907230970200009382420393e232007390523001a00100"
        "1300000013000000130000001300000013000000130000001300000013000000"
        "73002030170300006700a30082808280")
# vector_base @ 0x20000000 (.init): j _start; lui a0, 1; mv a0, a0 (two words of
# instructions), 0, msip, 0, mtip
VECTORS = bytes.fromhex("6f00001005652a85") + words(0, 0x20000144, 0, 0x2000014C)
SYMBOLS = {
    "_start": (0x20000100, 30, "STT_FUNC", "STB_GLOBAL"),
    "trap": (0x20000140, 4, "STT_FUNC", "STB_GLOBAL"),
    "msip": (0x20000144, 8, "STT_FUNC", "STB_GLOBAL"),
    "mtip": (0x2000014C, 2, "STT_FUNC", "STB_GLOBAL"),
    "malloc": (0x2000014E, 2, "STT_FUNC", "STB_GLOBAL"),
    "vector_base": (0x20000000, 24, "STT_OBJECT", "STB_GLOBAL"),
}


def _image():
    return image("riscv", CODE, 0x20000100, SYMBOLS, entry="_start",
                 data={".init": (0x20000000, VECTORS, False, True)})


def test_instructions_in_reserved_eclic_entries_are_skipped_with_a_note() -> None:
    table = find_roots(_image(), None)
    assert table.kind == "riscv-clic" and not table.missing
    assert {r.name: r.vectors for r in table.roots if r.kind == "handler"} == {
        "msip": (3,), "mtip": (5,)}
    assert sum("skipped" in note for note in table.notes) == 2


def test_handlers_of_the_eclic_table_are_checked() -> None:
    result = verify(_image(), None, HardenPolicy(), {})
    assert [(f.root, f.path) for f in result.findings if f.rule == "heap"] == [
        ("msip", ("msip", "malloc"))]
