"""One capstone pass over a span of code, with strings taken out only where needed.

Capstone's own `disasm_lite` builds four Python objects per instruction in a Python loop,
which costs more than the C disassembly itself. `Listing` calls the same C function
(`cs_disasm`), copies its instruction array once, and reads instruction ids, addresses and
sizes as strided memoryview slices; the decoders ask for mnemonic and operand text only
for the instructions they care about (branches, stack and PC writes, constant loads).
If the binding's internals ever differ, it falls back to `disasm_lite`.
"""

from __future__ import annotations

import ctypes

import capstone

try:  # capstone's ctypes binding: the loaded library and the instruction struct
    from capstone import _cs, _cs_insn

    _SIZE = ctypes.sizeof(_cs_insn)
    _ID = _cs_insn.id.offset
    _ADDRESS = _cs_insn.address.offset
    _LENGTH = _cs_insn.size.offset
    _MNEMONIC = _cs_insn.mnemonic.offset
    _OPS = _cs_insn.op_str.offset
    _FAST = (_SIZE % 8 == 0 and _ID % 4 == 0 and _ADDRESS % 8 == 0 and _LENGTH % 2 == 0)
except (ImportError, AttributeError):  # pragma: no cover - other capstone builds
    _FAST = False


# A run of undecodable bytes is one entry (one finding), not one per halfword, and after
# this many in a row the rest of the function is left undecoded: every retry is a capstone
# call (~20 us), so 1 MB of garbage in one function took tens of seconds. The function is
# undecodable either way; its entry makes its frame a lower bound and is a finding.
MAX_UNDECODABLE = 4096


def undecodable_run(start: int, stop: int, first: str, end: int) -> tuple[int, str]:
    """The unknown entry for undecodable bytes from `start` to `stop` in a function that
    ends at `end`; `first` is the hex of the first bytes."""
    if stop - start >= MAX_UNDECODABLE:
        return (start, f"undecodable bytes {first}: {stop - start} in a row, decoding stopped; "
                f"the {end - start} bytes to the end of the function are not analysed")
    return (start, f"undecodable bytes {first} ({stop - start} bytes)")


class Listing:
    """Instructions of one code span: ids, addresses, sizes; text on demand."""

    def __init__(self, engine: capstone.Cs, code: bytes, address: int, offset: int = 0) -> None:
        """Decode `code[offset:]`, its first byte at `address`.

        `offset` instead of a slice: a decoder restarts after every undecodable halfword,
        and slicing the rest of a function each time made one function of 1 MB of
        undecodable bytes quadratic (30-50 s); the C call reads the bytes in place."""
        self._raw = b""
        self._text: list[tuple[str, str]] | None = None
        if _FAST and len(code) > offset:
            insns = ctypes.POINTER(_cs_insn)()
            start = ctypes.cast(ctypes.c_char_p(code), ctypes.c_void_p).value + offset
            count = _cs.cs_disasm(engine.csh, ctypes.cast(start, ctypes.POINTER(ctypes.c_char)),
                                  len(code) - offset, address, 0, ctypes.byref(insns))
            try:
                raw = ctypes.string_at(insns, count * _SIZE) if count else b""
            finally:
                if count:
                    _cs.cs_free(insns, count)
            view = memoryview(raw)
            self.count = count
            self.ids = view.cast("I")[_ID // 4::_SIZE // 4].tolist() if count else []
            self.addresses = view.cast("Q")[_ADDRESS // 8::_SIZE // 8].tolist() if count else []
            self.sizes = view.cast("H")[_LENGTH // 2::_SIZE // 2].tolist() if count else []
            self._raw = raw
        else:
            code = code[offset:]
            decoded = list(engine.disasm_lite(code, address)) if code else []
            self.count = len(decoded)
            self.addresses = [d[0] for d in decoded]
            self.sizes = [d[1] for d in decoded]
            self.ids = [-1] * self.count  # no ids: every instruction counts as interesting
            self._text = [(d[2], d[3]) for d in decoded]

    @property
    def end(self) -> int:
        """Address after the last decoded instruction (where capstone stopped)."""
        return self.addresses[-1] + self.sizes[-1] if self.count else -1

    def _field(self, index: int, offset: int, width: int) -> str:
        start = index * _SIZE + offset
        stop = self._raw.index(b"\0", start, start + width)
        return self._raw[start:stop].decode("ascii")

    def mnemonic(self, index: int) -> str:
        if self._text is not None:
            return self._text[index][0]
        return self._field(index, _MNEMONIC, 32)

    def operands(self, index: int) -> str:
        if self._text is not None:
            return self._text[index][1]
        return self._field(index, _OPS, 160)

    def names_sp_or_pc(self, index: int) -> bool:
        """Whether the operand text mentions sp or pc (a cheap test before decoding it)."""
        if self._text is not None:
            ops = self._text[index][1]
            return "sp" in ops or "pc" in ops
        start = index * _SIZE + _OPS
        raw = self._raw
        return raw.find(b"sp", start, start + 40) >= 0 or raw.find(b"pc", start, start + 40) >= 0

    def destination(self, index: int) -> str:
        """The first operand (the destination register of most instructions)."""
        ops = self.operands(index)
        return ops.split(",", 1)[0].strip()

    def items(self) -> list[tuple[int, int, str, str]]:
        """(address, size, mnemonic, operands) for every instruction, like disasm_lite."""
        return [(self.addresses[i], self.sizes[i], self.mnemonic(i), self.operands(i))
                for i in range(self.count)]
