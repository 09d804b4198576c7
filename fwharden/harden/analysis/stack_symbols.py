"""The stack a vendor linker script reserves, from its symbols (issue 12 item 8).

A firmware linked with a vendor script (CubeMX, CMSIS, pico-sdk, Nuclei SDK) has no
`__fwh_*_stack_*` symbols, so fwharden's own checks have no size to compare with. The
scripts define the stack by convention:

- CMSIS (ARM's gcc_arm.ld, pico-sdk memmap_default.ld): `__StackLimit` .. `__StackTop`;
- CubeMX (STM32CubeIDE/Makefile `STM32*_FLASH.ld`): `_estack` (the top) and
  `_Min_Stack_Size`, the space the script guarantees (the link fails when .bss, the heap
  minimum and this do not fit); the stack may use more if RAM is free, so this is the size
  a margin can rely on;
- Nuclei SDK (gcc_gd32vf103_flashxip.ld): `_sp` and `__STACK_SIZE`;
- `_sstack` .. `_estack` (some vendor scripts).

On Cortex-M without fwharden's layout, main() and every handler run on that one stack
(MSP), so what must fit is main's chain plus the interrupt nesting worst case.
"""

from __future__ import annotations

from dataclasses import dataclass

from fwharden.harden.elf.image import Image


@dataclass(frozen=True)
class VendorStack:
    size: int
    top: int | None
    source: str        # the symbols it came from, for the report


def vendor_stack(image: Image) -> VendorStack | None:
    """The stack the vendor script reserved, or None when its symbols are not there."""
    sym = image.symbols
    top, limit = sym.get("__StackTop"), sym.get("__StackLimit")
    if top is not None and limit is not None and top - limit > 0:
        return VendorStack(top - limit, top, "__StackLimit .. __StackTop")
    top, minimum = sym.get("_estack"), sym.get("_Min_Stack_Size")
    if top is not None and minimum:
        return VendorStack(minimum, top, "_estack, _Min_Stack_Size")
    top, size = sym.get("_sp"), sym.get("__STACK_SIZE")
    if top is not None and size:
        return VendorStack(size, top, "_sp, __STACK_SIZE")
    top, bottom = sym.get("_estack"), sym.get("_sstack")
    if top is not None and bottom is not None and top - bottom > 0:
        return VendorStack(top - bottom, top, "_sstack .. _estack")
    return None
