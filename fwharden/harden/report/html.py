"""One self-contained HTML page per build: memory map, interrupt stack bars, findings.

No script, no network: inline CSS and SVG only, so the page opens anywhere a CI system
keeps artifacts. Each memory region is drawn as one row to its own scale (a 2 MiB flash
and a 64 KiB TCM cannot share one), with every allocated section, the stacks, their
guards and watermark spans placed at their addresses. Output is deterministic.
"""

from __future__ import annotations

from html import escape
from typing import Any

WIDTH = 700
ROW = 34
COLORS = {"code": "#4e79a7", "data": "#f28e2b", "bss": "#edc948", "heap": "#76b7b2",
          "other": "#9c755f", "stack": "#59a14f", "guard": "#e15759", "watermark": "#b6e3a8",
          "stackmap": "#af7aa1"}


def _kind(name: str) -> str:
    if name in (".text", ".isr_vector", ".init") or name.startswith(".text"):
        return "code"
    if name == ".fwh_stackmap":
        return "stackmap"
    if name in (".data", ".rodata", ".init_array", ".ARM.exidx", ".ARM.extab"):
        return "data"
    if name == ".heap":  # its own colour: a reader must tell the heap from zeroed data
        return "heap"
    if name in (".bss", ".noinit", ".fwh_mirror"):
        return "bss"
    return "other"


def _size(value: int) -> str:
    if value >= 1 << 20 and value % (1 << 20) == 0:
        return f"{value >> 20} MiB"
    if value >= 1024:
        return f"{value / 1024:.1f} KiB"
    return f"{value} B"


def _memory_map(regions: list[dict[str, Any]], sections: list[dict[str, Any]],
                stacks: list[dict[str, Any]]) -> str:
    height = ROW * len(regions) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 260}" height="{height}" '
             f'role="img" aria-label="memory map">']
    for row, region in enumerate(regions):
        y = 10 + row * ROW
        origin, length = region["origin"], region["length"]

        def x_of(address: int, origin: int = origin, length: int = length) -> float:
            return 170 + (address - origin) * WIDTH / length

        parts.append(f'<text x="0" y="{y + 15}" class="label">{escape(region["region"])} '
                     f'({_size(length)})</text>')
        parts.append(f'<rect x="170" y="{y}" width="{WIDTH}" height="22" fill="#f3f3f3" '
                     'stroke="#999"/>')
        spans: list[tuple[int, int, str, str]] = []
        for sec in sections:
            for address in (sec["address"], sec.get("load_address")):
                if address is not None and origin <= address < origin + length:
                    spans.append((address, sec["size"], _kind(sec["name"]), sec["name"]))
        for stack in stacks:
            for part in ("guard", "watermark"):
                span = stack[part]
                if origin <= span["start"] < origin + length or (
                        origin <= span["start"] + span["size"] - 1 < origin + length):
                    spans.append((span["start"], span["size"], part,
                                  f'{stack["name"]} {part}'))
        seen = set()
        for address, size, kind, title in sorted(spans):
            if (address, kind) in seen:
                continue
            seen.add((address, kind))
            start = max(address, origin)
            stop = min(address + size, origin + length)
            if stop <= start:
                continue
            x = x_of(start)
            width = max(x_of(stop) - x, 1.0)
            parts.append(f'<rect x="{x:.1f}" y="{y + 1}" width="{width:.1f}" height="20" '
                         f'fill="{COLORS[kind]}"><title>{escape(title)}: 0x{address:08x}, '
                         f'{size} B</title></rect>')
        parts.append(f'<text x="{170 + WIDTH + 6}" y="{y + 15}" class="label">'
                     f'{region["percent"]:.1f}% used</text>')
    parts.append("</svg>")
    return "\n".join(parts) + _legend()


def _legend() -> str:
    """HTML, not SVG: it wraps to the window (an SVG legend was cut off at 1280 px)."""
    items = "".join(f'<span class=key><i style="background:{color}"></i>{kind}</span>'
                    for kind, color in COLORS.items())
    return f"<div class=legend>{items}</div>"


def describe_bound(check: dict[str, Any] | None, key: str = "worst_case") -> str:
    """A worst case as words that cannot contradict themselves: "unbounded" alone (the
    bytes found are a minimum, said so), "at least N B", or "N B (exact)"."""
    if not check:
        return "not checked"
    kind, value = check.get("kind"), check.get(key)
    if kind == "unbounded":
        return f"unbounded (no static bound; at least {value} B)" if value else "unbounded"
    if kind == "at_least":
        return f"at least {value} B"
    return f"{value} B (exact)"


def _stack_summary(verify: dict[str, Any]) -> str:
    """One line per stack: worst case, size, margin, in words (also in the table)."""
    rows = [("interrupt stack", verify.get("isr_stack")), ("thread stack",
                                                           verify.get("thread_stack"))]
    rows += [(o.get("name", "stack"), o) for o in verify.get("other_stacks") or []]
    out = []
    for label, check in rows:
        if not check:
            out.append(f"<li>{escape(label)}: not checked</li>")
            continue
        size = check.get("size")
        margin = check.get("margin")
        over = margin is not None and margin < 0
        out.append(f'<li class="{"error" if over or check.get("kind") == "unbounded" else ""}">'
                   f"<b>{escape(label)}</b>: worst case {escape(describe_bound(check))} of "
                   f"{size if size is not None else '?'} B"
                   + ("" if margin is None else f", margin {margin} B") + "</li>")
    return "<ul class=stacks>" + "".join(out) + "</ul>"


def _table(header: list[str], rows: list[list[str]], cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table class="{cls}"><tr>{head}</tr>{body}</table>'


def _sections_table(sections: list[dict[str, Any]], stacks: list[dict[str, Any]]) -> str:
    rows = [[f'<i class=sw style="background:{COLORS[_kind(s["name"])]}"></i>'
             f'{escape(s["name"])}', f'0x{s["address"]:08x}',
             f'0x{s["load_address"]:08x}' if s.get("load_address") not in (None, s["address"])
             else "", f'{s["size"]} B'] for s in sections]
    for stack in stacks:
        for part in ("guard", "stack"):
            area = stack[part]
            rows.append([f'<i class=sw style="background:{COLORS[part]}"></i>'
                         f'{escape(stack["name"])} {part}', f'0x{area["start"]:08x}', "",
                         f'{area["size"]} B'])
    return _table(["section", "address", "stored at", "size"], rows, "num")


def _interrupt_table(verify: dict[str, Any]) -> str:
    rows = []
    for i in verify.get("interrupts", []):
        bound = i["stack"]
        path = " &rarr; ".join(f'{escape(p["function"])} ({p["frame"]} B)'
                               for p in i.get("deepest_path", []))
        rows.append([escape(i["name"]), escape(", ".join(i.get("labels", [])[:3])),
                     escape(describe_bound({"worst_case": bound["bytes"],
                                            "kind": bound["kind"]})), path])
    return _table(["handler", "vector", "stack", "deepest path"], rows)


def _symbols_tables(symbols: list[dict[str, Any]] | None) -> str:
    if not symbols:
        return "<p>No symbol sizes.</p>"
    out = []
    for region in symbols:
        if not region["symbols"]:
            continue
        rows = [[f'{s["size"]} B', escape(s["kind"]), escape(s["name"]), escape(s["section"])]
                for s in region["symbols"]]
        rows.append([f'{region["unattributed"]} B', "", "not in a sized symbol", ""])
        out.append(f'<h3>{escape(region["region"])} ({region["used"]} B used)</h3>'
                   + _table(["size", "kind", "symbol", "section"], rows, "num"))
    return "\n".join(out)


def _stack_block(stacks: list[dict[str, Any]]) -> str:
    """The stacks and guards alone, to scale: in a memory map of megabytes they vanish."""
    if not stacks:
        return "<p>No stack map (not built with fwharden's linker script).</p>"
    low = min(s["guard"]["start"] for s in stacks)
    high = max(s["stack"]["start"] + s["stack"]["size"] for s in stacks)
    span = max(high - low, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 200}" height="96" '
             'role="img" aria-label="stack block">']
    for stack in stacks:
        for part, color, y in (("guard", COLORS["guard"], 10), ("stack", COLORS["stack"], 10),
                               ("watermark", COLORS["watermark"], 36)):
            area = stack[part]
            x = 20 + (area["start"] - low) * WIDTH / span
            width = max(area["size"] * WIDTH / span, 1.0)
            parts.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="22" '
                         f'fill="{color}" stroke="#fff"><title>{escape(stack["name"])} {part}: '
                         f'0x{area["start"]:08x}, {area["size"]} B</title></rect>')
            if part == "stack":
                parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" class="label">'
                             f'{escape(stack["name"])} stack {_size(area["size"])}</text>')
        guard = stack["guard"]
        x = 20 + (guard["start"] - low) * WIDTH / span
        parts.append(f'<text x="{x:.1f}" y="80" class="label">0x{guard["start"]:08x}</text>')
    parts.append(f'<text x="{20 + WIDTH - 70}" y="80" class="label">0x{high:08x}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _interrupt_bars(verify: dict[str, Any]) -> str:
    isr = verify.get("isr_stack") or {}
    size = isr.get("size") or 0
    interrupts = verify.get("interrupts", [])
    scale = max([size, isr.get("worst_case", 0)] + [i["stack"]["bytes"] for i in interrupts] + [1])
    rows = interrupts + [{"name": "worst case, all levels nested",
                          "stack": {"bytes": isr.get("worst_case", 0),
                                    "kind": isr.get("kind", "exact")}, "labels": ["total"]}]
    height = 26 * len(rows) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH + 460}" height="{height}" '
             'role="img" aria-label="interrupt stack use">']
    for row, item in enumerate(rows):
        y = 8 + row * 26
        bound = item["stack"]
        width = bound["bytes"] * WIDTH / scale
        color = "#e15759" if bound["kind"] != "exact" or (size and bound["bytes"] > size) \
            else "#4e79a7"
        label = f'{escape(item["name"])} ({escape(", ".join(item.get("labels", [])[:1]))})'
        parts.append(f'<text x="0" y="{y + 14}" class="label">{label}</text>')
        parts.append(f'<rect x="290" y="{y}" width="{max(width, 1):.1f}" height="18" '
                     f'fill="{color}"/>')
        shown = describe_bound({"worst_case": bound["bytes"], "kind": bound["kind"]})
        parts.append(f'<text x="{296 + max(width, 1):.1f}" y="{y + 14}" class="label">'
                     f'{shown}</text>')
    if size:
        x = 290 + size * WIDTH / scale
        parts.append(f'<line x1="{x:.1f}" y1="0" x2="{x:.1f}" y2="{height - 20}" '
                     'stroke="#333" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{x + 4:.1f}" y="{height - 6}" class="label">interrupt stack '
                     f'{size} B</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _findings(verify: dict[str, Any]) -> str:
    findings = verify.get("findings", [])
    if not findings:
        return "<p class=ok>No findings.</p>"
    items = []
    for f in findings:
        where = (f' <span class=src>{escape(f["file"])}:{f["line"]}</span>'
                 if f.get("file") else "")
        site = f' at 0x{f["site"]:08x}' if f.get("site") is not None else ""
        path = " &rarr; ".join(escape(p) for p in f.get("path", []))
        items.append(f'<li class="{escape(f["severity"])}"><b>{escape(f["severity"].upper())}'
                     f' [{escape(f["rule"])}]</b> {escape(f["message"])}{site}{where}'
                     + (f"<br><span class=path>{path}</span>" if path else "")
                     + f'<br><span class=why>{escape(f.get("reason", ""))}</span></li>')
    return "<ul class=findings>" + "\n".join(items) + "</ul>"


def render_html(project: str, board: str, verify: dict[str, Any], regions: list[dict[str, Any]],
                sections: list[dict[str, Any]], stacks: list[dict[str, Any]],
                symbols: list[dict[str, Any]] | None = None) -> str:
    verdict = verify.get("verdict", "fail")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>fwharden report: {escape(project)} on {escape(board)}</title>
<style>
body {{ font-family: sans-serif; margin: 24px; color: #222; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; margin-top: 28px; }}
.verdict {{ display: inline-block; padding: 3px 10px; color: #fff; border-radius: 3px;
  background: {"#2e7d32" if verdict == "pass" else "#c62828"}; }}
.label {{ font-size: 12px; font-family: sans-serif; fill: #222; }}
.findings li {{ margin-bottom: 10px; }} .error b {{ color: #c62828; }}
.warning b {{ color: #b26a00; }} .src {{ font-family: monospace; color: #555; }}
.path {{ font-family: monospace; }} .why {{ color: #666; font-size: 13px; }}
.ok {{ color: #2e7d32; }}
.legend {{ margin: 4px 0 0 170px; max-width: 900px; }}
.key {{ display: inline-block; margin: 0 14px 4px 0; font-size: 12px; }}
.key i, i.sw {{ display: inline-block; width: 12px; height: 12px; margin-right: 4px;
  vertical-align: -1px; }}
table {{ border-collapse: collapse; font-size: 13px; margin: 6px 0 12px; }}
th, td {{ border: 1px solid #ddd; padding: 3px 8px; text-align: left; }}
table.num td:first-child + td, table.num td:nth-child(n+2) {{ font-family: monospace; }}
.stacks li.error b {{ color: #c62828; }}
</style>
</head>
<body>
<h1>{escape(project)} on {escape(board)} <span class="verdict">{verdict.upper()}</span></h1>
{_stack_summary(verify)}
<h2>Findings</h2>
{_findings(verify)}
<h2>Memory map</h2>
{_memory_map(regions, sections, stacks)}
<details><summary>Sections and stacks by address</summary>
{_sections_table(sections, stacks)}
</details>
<h2>Stacks, guards (red) and watermark spans</h2>
{_stack_block(stacks)}
<h2>Interrupt stack use per handler</h2>
{_interrupt_bars(verify)}
{_interrupt_table(verify)}
<h2>Largest symbols per region</h2>
{_symbols_tables(symbols)}
</body>
</html>
"""
