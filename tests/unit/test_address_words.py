"""The uninstalled-handler scan's address words, read with one struct call per section,
are the words the plain loop reads (each aligned offset of each section, less the
vector table), for tables before, inside, across and after a section (issue 19)."""

from __future__ import annotations

import random

import pytest

from fwharden.harden.analysis.uninstalled import _address_words
from fwharden.harden.elf.image import Section


class _Image:
    def __init__(self, sections: list[Section]) -> None:
        self.sections = sections


def _plain(sections: list[Section], start: int, end: int) -> set[int]:
    words = set()
    for section in sections:
        data = section.data
        for offset in range(0, len(data) - 3, 4):
            if not start <= section.address + offset < end:
                words.add(int.from_bytes(data[offset:offset + 4], "little"))
    return words


@pytest.mark.parametrize("seed", range(16))
def test_same_words_as_the_plain_loop(seed: int) -> None:
    rng = random.Random(seed)
    sections = []
    for _ in range(rng.randrange(1, 4)):
        size = rng.randrange(0, 64)
        # Distinct words, so a word dropped or read at the wrong offset shows.
        data = b"".join(rng.getrandbits(32).to_bytes(4, "little") for _ in range(size // 4 + 1))
        sections.append(Section(".s", rng.choice([0, 2, 0x100, 0x102]), size, False, False,
                                data[:size]))
    start = rng.choice([0, 1, 2, 4, 6, 0x100, 0x104, 0x10a, 0x200])
    end = start + rng.choice([0, 2, 4, 8, 30, 64])
    assert _address_words(_Image(sections), start, end) == _plain(sections, start, end)
