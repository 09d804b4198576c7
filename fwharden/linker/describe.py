"""Turn a Layout into plain data (for --json) and text (for people). Never prints."""

from __future__ import annotations

from typing import Any

from .layout import Layout, Span


def _span(span: Span) -> dict[str, int]:
    return {"start": span.start, "end": span.end, "size": span.size}


def layout_to_dict(layout: Layout) -> dict[str, Any]:
    return {
        "flip": layout.flip,
        "stack_block": {"region": layout.stack_region.source.name,
                        "start": layout.stack_region.origin,
                        "size": layout.stack_region.length},
        "stacks": [{"name": b.name, "title": b.title, "stack": _span(b.stack),
                    "guard": _span(b.guard), "watermark": _span(b.watermark),
                    "requested": b.requested}
                   for b in layout.stacks],
        "regions": [{"name": u.name, "profile_region": u.source.name, "origin": u.origin,
                     "length": u.length} for u in layout.regions],
        "stackmap_size": layout.stackmap_size,
    }


def describe_layout(layout: Layout) -> str:
    lines = [f"  layout      {'flip' if layout.flip else 'top'} of "
             f"{layout.stack_region.source.name}"]
    for block in layout.stacks:
        lines.append(f"    {block.name:<7} stack 0x{block.stack.start:08x}-0x{block.stack.end:08x} "
                     f"({block.stack.size} B, {block.requested} requested), guard "
                     f"0x{block.guard.start:08x}-0x{block.guard.end:08x} ({block.guard.size} B)")
    return "\n".join(lines) + "\n"
