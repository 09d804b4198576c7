"""Loaded images shared by the steps of one build, so each ELF is parsed once per process.

The SCons tool runs verify, memory use, the HTML report and the manifest as separate
actions in one process; each asks an `ImageCache` the build owns (explicit state, passed
around, never a module global). An entry is reused only while the file is unchanged:
same size, modification time and inode, so a relink is read again.
"""

from __future__ import annotations

import os
import threading
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from fwharden.harden.elf.image import Image, load_image
from fwharden.harden.errors import HardenError


class ImageCache:
    """`load(path)`: the Image of `path`, parsed on first use and while the file stands."""

    KEY = "FWH_IMAGE_CACHE"

    @classmethod
    def shared(cls, store: MutableMapping[str, Any]) -> ImageCache:
        """The cache kept in `store` under FWH_IMAGE_CACHE (the SCons environment of the
        build), made on first use."""
        cache = store.get(cls.KEY)
        if not isinstance(cache, cls):
            cache = cls()
            store[cls.KEY] = cache
        return cache

    def __init__(self) -> None:
        self._images: dict[str, tuple[tuple[int, int, int], Image]] = {}
        self._lock = threading.Lock()   # SCons -j runs actions in threads

    def load(self, path: Path) -> Image:
        try:
            info = os.stat(path)
        except OSError as exc:
            raise HardenError(f"{path}: cannot open ({exc.strerror})") from None
        stamp = (info.st_size, info.st_mtime_ns, info.st_ino)
        key = str(Path(path).resolve())
        with self._lock:
            cached = self._images.get(key)
            if cached is not None and cached[0] == stamp:
                return cached[1]
        image = load_image(Path(path))
        with self._lock:
            self._images[key] = (stamp, image)
        return image
