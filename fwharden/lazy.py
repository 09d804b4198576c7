"""Package attributes loaded on first use (PEP 562), so `import fwharden.cli` does not pay for
pyelftools, capstone or LIEF before a command needs them.

A leaf helper: it imports nothing of fwharden, so every layer may use it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, homes: dict[str, str], names: Iterable[str]
                    ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """`__getattr__` and `__dir__` for `package`: `homes` maps each exported name to the
    submodule defining it; a name is imported once, then kept on the package."""
    module = sys.modules[package]
    exported = frozenset(names)

    def __getattr__(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(f"{package}.{home}"), name)
        setattr(module, name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(module), *exported})

    return __getattr__, __dir__
