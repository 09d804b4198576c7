"""Images built in memory from hand-assembled bytes, for the unit tier (no cross compiler).

Each test embeds the bytes as hex with the assembly source beside them. The bytes were
assembled once, when the test was written, with
`arm-none-eabi-as -mcpu=cortex-m4 -mthumb` (or `riscv64-unknown-elf-as -march=rv32imac_zicsr
-mabi=ilp32`) and linked with `ld -Ttext <base>`; the symbol list is what `readelf -s` showed.
Symbols go through the same `_symbols` step `load_image` uses, so labels, aliases and sizes
are read exactly as from an ELF.
"""

from __future__ import annotations

from pathlib import Path

from fwharden.harden.elf.image import Image, RawSymbol, Section, _symbols

# (value as the symbol table holds it (Thumb bit set for ARM functions), size, type, binding)
Sym = tuple[int, int, str, str]


def image(family: str, code: str, base: int, symbols: dict[str, Sym], *,
          vectors: list[str | int] | None = None, vector_base: int = 0,
          data: dict[str, tuple[int, bytes, bool] | tuple[int, bytes, bool, bool]] | None = None,
          entry: str | None = None, mapping: list[tuple[int, str]] | None = None) -> Image:
    """An Image with `.text` = bytes of `code` at `base`.

    vectors: words of an `.isr_vector` section at `vector_base` (a name is that function's
    symbol value, so ARM handlers carry the Thumb bit as a linker would write them).
    data: extra sections name -> (address, bytes, writable[, executable]).
    """
    text = bytes.fromhex("".join(code.split()))
    sections = [Section(".text", base, len(text), True, False, text)]
    if vectors is not None:
        words = b"".join((symbols[w][0] if isinstance(w, str) else w).to_bytes(4, "little")
                         for w in vectors)
        sections.insert(0, Section(".isr_vector", vector_base, len(words), False, False, words))
    for name, (address, raw, writable, *executable) in (data or {}).items():
        sections.append(Section(name, address, len(raw), bool(executable and executable[0]),
                                writable, raw))
    raw_symbols = [RawSymbol(name, value, size, kind, binding, False, False)
                   for name, (value, size, kind, binding) in symbols.items()]
    functions, values, data_symbols, maps = _symbols(raw_symbols, family, sections)
    start = values[entry] if entry else (functions[0].address if functions else base)
    return Image(path=Path(f"<{family} test image>"), family=family, entry=start,
                 sections=sections, functions=functions, symbols=values,
                 data_symbols=data_symbols, arm_fp=False,
                 mapping=sorted(maps + (mapping or [])))


def words(*values: int) -> bytes:
    """Little-endian 32-bit words, as a vector table holds them."""
    return b"".join(v.to_bytes(4, "little") for v in values)
