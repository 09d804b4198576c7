"""The build's steps share one parsed Image per ELF, and a relinked file is read again."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from fwharden.harden.elf.cache import ImageCache
from fwharden.harden.errors import HardenError

# A real ELF that needs no cross compiler: the interpreter itself is an ELF, but not a
# 32-bit ARM/RISC-V one, so loading it is the one-line error; the cache must not keep it.


def test_shared_cache_lives_in_the_store() -> None:
    store: dict = {}
    first = ImageCache.shared(store)
    assert ImageCache.shared(store) is first and store[ImageCache.KEY] is first


def test_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(HardenError, match="cannot open"):
        ImageCache().load(tmp_path / "none.elf")


def test_wrong_machine_is_not_cached(tmp_path: Path) -> None:
    elf = tmp_path / "host.elf"
    shutil.copy(os.path.realpath("/bin/true"), elf)
    cache = ImageCache()
    for _ in range(2):
        with pytest.raises(HardenError, match="not a 32-bit ARM or RISC-V"):
            cache.load(elf)
