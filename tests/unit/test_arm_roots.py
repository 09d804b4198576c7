"""Issue 11 item 2: roots from real vector tables (ARM DDI 0403E B1.5.3).

The tables are laid out as the vendors' start-up files lay them out (the word values are
from those files: STM32F1's BootRAM is 0xF108F85F); the code is the hand-assembled image
of test_findings_per_root.py.
"""

from __future__ import annotations

from synth import image, words
from test_findings_per_root import CODE, SYMBOLS

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.roots import find_roots
from fwharden.harden.analysis.verify import verify

H0, H1, H2, RESET = (SYMBOLS[n][0] for n in ("h0", "h1", "h2", "reset"))
BOOT_RAM = 0xF108F85F   # startup_stm32f10x_md.s: `BootRAM EQU 0xF108F85F`, the last word


def test_stm32f1_bootram_word_is_skipped_with_a_note() -> None:
    img = image("arm", CODE, 0x100, SYMBOLS, vectors=[0x20005000, "reset", "h0", 0, "h1", 0,
                                                      "h2", BOOT_RAM])
    table = find_roots(img, None)
    assert sorted(r.name for r in table.roots) == ["h0", "h1", "h2"]
    assert table.thread is not None and table.thread.name == "reset"
    assert any("0xf108f85f" in note and "skipped" in note for note in table.notes)
    result = verify(img, None, HardenPolicy(), {})
    assert result.notes and not any(f.rule == "roots" for f in result.findings)


def test_size_zero_label_in_text_and_an_entry_point_that_is_not_the_reset_vector() -> None:
    # pico-sdk crt0.S: `__vectors:` (global, no .type, no .size) at the start of .text; the
    # ELF enters at _entry_point, while the table's reset word is _reset_handler. After the
    # table comes code (here: the next function symbol ends it).
    table_words = words(0x20042000, RESET, H0, H1, 0, H2)
    symbols = {**SYMBOLS, "__vectors": (0x1000, 0, "STT_NOTYPE", "STB_GLOBAL"),
               "after_table": (0x1000 + len(table_words) + 1, 2, "STT_FUNC", "STB_GLOBAL")}
    img = image("arm", CODE, 0x100, symbols, entry="h2",
                data={".text.boot": (0x1000, table_words + bytes.fromhex("fee7"), False, True)})
    table = find_roots(img, None)
    assert table.address == 0x1000 and table.entries == 6
    assert "__vectors" in table.source
    assert table.thread.name == "reset"
    assert sorted(r.name for r in table.roots) == ["h0", "h1", "h2"]


def test_table_found_by_its_reset_word_without_a_symbol() -> None:
    table_words = words(0x20042000, RESET, H0, 0, H1, H2) + words(0x12345678)
    img = image("arm", CODE, 0x100, SYMBOLS, entry="h1",
                data={".rodata": (0x2000, table_words, False)})
    table = find_roots(img, None)
    assert (table.address, table.entries) == (0x2000, 6)
    assert sorted(r.name for r in table.roots) == ["h0", "h1", "h2"]


def test_no_table_is_an_error_finding_not_exit_2() -> None:
    img = image("arm", CODE, 0x100, SYMBOLS)
    result = verify(img, None, HardenPolicy(), {})
    assert [f.rule for f in result.findings] == ["roots"]
    assert result.verdict == "fail"
