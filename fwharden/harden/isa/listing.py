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


class Listing:
    """Instructions of one code span: ids, addresses, sizes; text on demand."""

    def __init__(self, engine: capstone.Cs, code: bytes, address: int) -> None:
        self._raw = b""
        self._text: list[tuple[str, str]] | None = None
        if _FAST and code:
            insns = ctypes.POINTER(_cs_insn)()
            count = _cs.cs_disasm(engine.csh, code, len(code), address, 0, ctypes.byref(insns))
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
