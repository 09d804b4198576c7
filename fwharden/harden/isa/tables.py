"""Reading tables of code addresses out of the image, shared by the Thumb and RV32 decoders.

A jump or call through a register loaded from a table is resolved to the table's entries only
when the table is a read-only data object whose every word is a function's address.
"""

from __future__ import annotations

from fwharden.harden.elf.image import Image


def read_only_table(image: Image, base: int) -> tuple[int, ...]:
    """Function addresses in the read-only table object at `base` (zeros skipped).

    NOTE: only tables in non-writable sections are trusted: a table in RAM can be changed
    at run time, so its link-time contents prove nothing.
    """
    section = image.section_at(base)
    sym = image.data_symbol_at(base)
    if section is None or section.writable or sym is None or sym.address != base or sym.size < 4:
        return ()
    entries = []
    for offset in range(0, sym.size - sym.size % 4, 4):
        word = image.word(base + offset)
        if not word:
            continue
        target = word & ~1 if image.family == "arm" else word
        func = image.function_at(target)
        if func is None or func.address != target:
            return ()  # not a table of function addresses
        entries.append(target)
    return tuple(dict.fromkeys(entries))
