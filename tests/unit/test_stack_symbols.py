"""Issue 12 item 8: the stack a vendor linker script reserves, from its symbols, and the
check of main() plus the handlers against it.

The handler and reset code is the intra-function-bl image of test_models.py (caller: 24 B
with dmul, reset: 0 B); the vendor symbols are added as a linker script defines them.
"""

from __future__ import annotations

import pytest
from synth import image
from test_models import LOCAL_CODE, LOCAL_SYMBOLS

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.stack_symbols import vendor_stack
from fwharden.harden.analysis.verify import verify


def _image(extra: dict[str, int]):
    symbols = dict(LOCAL_SYMBOLS)
    symbols.update({name: (value, 0, "STT_NOTYPE", "STB_GLOBAL") for name, value in extra.items()})
    return image("arm", LOCAL_CODE, 0x100, symbols,
                 vectors=[0x20001000, "reset", 0, "caller"])


@pytest.mark.parametrize("symbols, size, source", [
    ({"__StackTop": 0x20042000, "__StackLimit": 0x20040000}, 0x2000, "__StackLimit .. __StackTop"),
    ({"_estack": 0x20020000, "_Min_Stack_Size": 0x400}, 0x400, "_estack, _Min_Stack_Size"),
    ({"_sp": 0x20008000, "__STACK_SIZE": 0x800}, 0x800, "_sp, __STACK_SIZE"),
    ({"_estack": 0x20020000, "_sstack": 0x2001f000}, 0x1000, "_sstack .. _estack"),
])
def test_vendor_stack_symbols(symbols: dict[str, int], size: int, source: str) -> None:
    found = vendor_stack(_image(symbols))
    assert found is not None and (found.size, found.source) == (size, source)


def test_no_vendor_symbols_no_stack() -> None:
    assert vendor_stack(_image({})) is None


def test_main_plus_handler_is_checked_against_the_vendor_stack() -> None:
    fits = verify(_image({"_estack": 0x20020000, "_Min_Stack_Size": 0x400}), None,
                  HardenPolicy(), {})
    (check,) = [o for o in fits.other_stacks if "vendor" in o.name]
    # caller 24 B + exception frame 36 B (no FPU, +4 alignment), reset 0 B + 36 B
    assert check.size == 0x400 and check.worst_case.bytes == 24 + 36 + 36
    assert not [f for f in fits.findings if "vendor" in f.message]
    tight = verify(_image({"_estack": 0x20020000, "_Min_Stack_Size": 64}), None,
                   HardenPolicy(), {})
    (error,) = [f for f in tight.findings if "vendor" in f.message]
    assert error.rule == "isr-stack-overflow" and error.severity == "error"
