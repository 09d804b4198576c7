"""Named facts, once: the host side's bit names and record magic are the runtime's own.

The values are read from the C headers the firmware is built with (runtime/cortex_m/scs.h,
runtime/common/fault.h), so a change on one side without the other fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fwharden.harden.faults import parse, scs

RUNTIME = Path(__file__).resolve().parents[2] / "fwharden" / "runtime"
_DEFINE = re.compile(r"^#define (\w+) \(?(0x[0-9a-fA-F]+|\d+)u?(?: << (\d+))?u?\)?", re.M)


def _defines(path: Path) -> dict[str, int]:
    out = {}
    for name, value, shift in _DEFINE.findall(path.read_text()):
        out[name] = int(value, 0) << (int(shift) if shift else 0)
    return out


NAMES = [n for n in dir(scs) if n.isidentifier() and not n.startswith("_") and n != "annotations"]


@pytest.mark.parametrize("name", NAMES)
def test_scs_bits_match_the_c_header(name: str) -> None:
    c_side = _defines(RUNTIME / "cortex_m" / "scs.h")
    assert name in c_side, f"{name} is not defined in runtime/cortex_m/scs.h"
    assert getattr(scs, name) == c_side[name]


def test_record_magic_is_the_runtime_s() -> None:
    assert _defines(RUNTIME / "common" / "fault.h")["FWH_FAULT_MAGIC"] == parse.RECORD_MAGIC
