"""Memory layout and linker script generation: `Profile -> Layout -> str`.

Must not run a compiler or read the ELF; it only computes addresses and renders text.
"""

from .layout import Layout, RegionUse, Span, StackBlock, build_layout
from .script import HEADER_LINE, render_linker_script
from .vectors import (
    irq_handler_name,
    render_stackmap_reservation,
    render_vector_table,
    vector_entries,
)

__all__ = [
    "HEADER_LINE",
    "Layout",
    "RegionUse",
    "Span",
    "StackBlock",
    "build_layout",
    "irq_handler_name",
    "render_linker_script",
    "render_stackmap_reservation",
    "render_vector_table",
    "vector_entries",
]
