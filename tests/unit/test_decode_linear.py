"""Decoding is linear in the size of the code (issue 20, item 3): one function of 1 MB of
undecodable bytes took 30-50 s when each retry sliced the rest of the function."""

from __future__ import annotations

import time

from synth import image

from fwharden.harden.isa.listing import MAX_UNDECODABLE
from fwharden.harden.isa.rv32 import decode_riscv
from fwharden.harden.isa.thumb import decode_arm

MB = 1 << 20


def _timed(decode, img):
    func = img.functions[0]
    start = time.perf_counter()
    decoded = decode(img, func)
    return decoded, time.perf_counter() - start


def test_thumb_megabyte_of_garbage() -> None:
    img = image("arm", "ffff" * (MB // 2), 0x100, {"f": (0x101, MB, "STT_FUNC", "STB_GLOBAL")})
    decoded, elapsed = _timed(decode_arm, img)
    assert elapsed < 5
    assert len(decoded.unknown) == 1  # one run, one finding; not one per halfword
    where, what = decoded.unknown[0]
    assert where == 0x100 and "decoding stopped" in what and f"{MB} bytes" in what


def test_riscv_megabyte_of_garbage() -> None:
    img = image("riscv", "ffffffff" * (MB // 4), 0x100,
                {"f": (0x100, MB, "STT_FUNC", "STB_GLOBAL")})
    decoded, elapsed = _timed(lambda i, f: decode_riscv(i, f)[0], img)
    assert elapsed < 5
    assert len(decoded.unknown) == 1 and "decoding stopped" in decoded.unknown[0][1]


def test_short_runs_are_one_entry_each_and_decoding_goes_on() -> None:
    # nop (bf00) between runs of garbage: every run is reported, none stops decoding.
    run = "ffff" * 8
    code = (run + "00bf") * 1000 + "7047"   # ... bx lr
    size = len(code) // 2
    img = image("arm", code, 0x100, {"f": (0x101, size, "STT_FUNC", "STB_GLOBAL")})
    decoded, elapsed = _timed(decode_arm, img)
    assert len(decoded.unknown) == 1000 and elapsed < 5
    assert all("(16 bytes)" in what for _, what in decoded.unknown)
    assert MAX_UNDECODABLE > 16


def test_valid_code_scales_linearly() -> None:
    """256 KB of `adds r0, #1` (131k instructions) in one pass; the whole image's code is
    bounded by load_image (CODE_LIMIT)."""
    code = "0130" * (MB // 8) + "7047"
    img = image("arm", code, 0x100, {"f": (0x101, MB // 4 + 2, "STT_FUNC", "STB_GLOBAL")})
    decoded, elapsed = _timed(decode_arm, img)
    assert not decoded.unknown and elapsed < 5 and decoded.instructions == MB // 8 + 1
