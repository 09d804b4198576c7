#!/usr/bin/env python3
"""Benchmark: `fwharden verify` against `arm-none-eabi-objdump -d` and puncover, by size.

For each size (KiB of code) it generates a firmware whose interrupt handlers reach nearly
all of it, builds it once with the fwharden SCons tool (arm-none-eabi-gcc -O2, board
mps2-an500, -fstack-usage), and times on the same ELF:
  - fwharden verify in this process (the whole analysis; CPU seconds) and its peak Python
    heap (tracemalloc), against the ELF file's size;
  - the `fwharden verify` CLI as a user runs it (a child process: wall and CPU seconds from
    the kernel's accounting, and its peak resident memory);
  - with --cache: the CLI again with `--cache DIR` warm (nothing changed since the last run);
  - `arm-none-eabi-objdump -d` (the reference: it only prints the disassembly);
  - puncover's collector (objdump -dslw, nm, .su parsing, call tree), run in the
    interpreter --puncover-python names (puncover pins Flask: keep it in its own venv).
Prints one table row per firmware (medians of --repeat runs), the ratios, and how verify's
time grows with size (the exponent between neighbouring sizes: 1.0 is linear).
Real firmware is measured the same way with --elf PATH[:BOARD[:SU_DIR]].

    .venv/bin/python bench/verify_speed.py [--sizes 40,200,1024,4096] [--repeat 5]
        [--keep DIR] [--puncover-python VENV/bin/python] [--elf X.elf:stm32f407:X-su] [--cache]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIRMWARE_TOML = """\
schema_version = 1
[project]
name = "bench"
board = "mps2-an500"
sources = ["src/*.c"]
include_dirs = ["src"]
[harden]
fail_on = "never"
"""
# Bytes of Thumb-2 code one generated function compiles to at -O2 (measured: 4000 functions
# make ~1.0 MiB of .text); sizes are met to within a few per cent.
BYTES_PER_FUNCTION = 262

# puncover's collector over one ELF, timed inside its own interpreter (CPU seconds per run).
PUNCOVER = """\
import contextlib, io, json, os, sys, time
from pathlib import Path
from puncover.collector import Collector
from puncover.gcc_tools import GCCTools
elf, base, su_dir, repeat = Path(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4])
times = []
for _ in range(repeat):
    start = time.perf_counter()
    cpu = time.process_time(), os.times()
    with contextlib.redirect_stdout(io.StringIO()):
        collector = Collector(GCCTools(base))
        collector.parse_elf(elf)
        collector.enhance(str(elf.parent))
        collector.parse_su_dir(su_dir)
    now = os.times()
    times.append((time.perf_counter() - start,
                  now.user + now.system + now.children_user + now.children_system
                  - cpu[1].user - cpu[1].system - cpu[1].children_user - cpu[1].children_system))
print(json.dumps(times))
"""


def generate(root: Path, functions: int, per_file: int, seed: int) -> None:
    """C sources: function i calls f(i-1) and one random earlier function, so the handlers
    (which call the last functions) reach all of them."""
    rng = random.Random(seed)
    src = root / "src"
    src.mkdir(parents=True)
    from fwharden.scaffold import SCONSTRUCT

    (root / "SConstruct").write_text(SCONSTRUCT)
    (root / "firmware.toml").write_text(FIRMWARE_TOML)
    decls = "\n".join(f"int f{i}(int x);" for i in range(functions))
    (src / "bench.h").write_text(f"#ifndef BENCH_H\n#define BENCH_H\n{decls}\n#endif\n")
    for start in range(0, functions, per_file):
        lines = ['#include "bench.h"', "extern volatile int g_bench[64];"]
        for i in range(start, min(start + per_file, functions)):
            callees = [i - 1, rng.randrange(i)] if i > 1 else []
            body = [f"    int acc = x * {rng.randrange(3, 97)} + {rng.randrange(1000)};"]
            for k in range(rng.randrange(6, 14)):
                body.append(f"    acc = (acc << {1 + k % 5}) ^ g_bench[(acc + {k}) & 63];")
                body.append(f"    if (acc & {1 << (k % 7)}) acc += g_bench[{k * 3 % 64}] * {k + 2};")
            for callee in callees:
                body.append(f"    if (acc & 0x{rng.randrange(1, 255):02x}) acc += f{callee}(acc >> 3);")
            body.append("    g_bench[x & 63] = acc;")
            body.append("    return acc;")
            lines.append(f"__attribute__((noinline)) int f{i}(int x)\n{{\n" + "\n".join(body) + "\n}")
        (src / f"part{start // per_file:03d}.c").write_text("\n\n".join(lines) + "\n")
    top = list(range(functions - 1, max(functions - 25, 0), -1))
    handlers = ["volatile int g_bench[64];", '#include "bench.h"']
    for n, name in enumerate(("TIMER0_IRQHandler", "TIMER1_IRQHandler", "UART0RX_IRQHandler",
                              "SPI_IRQHandler")):
        calls = "\n".join(f"    g_bench[{k}] = f{f}(g_bench[{k + 1}]);"
                          for k, f in enumerate(top[n::4]))
        handlers.append(f"void {name}(void)\n{{\n{calls}\n}}")
    handlers.append("int main(void)\n{\n    return f0(1) & 0;\n}")
    (src / "handlers.c").write_text("\n\n".join(handlers) + "\n")


def build_generated(workdir: Path, kib: int, per_file: int, seed: int) -> tuple[Path, Path]:
    """The ELF of the generated firmware of about `kib` KiB of code, built once: a kept
    build of the same size and seed is reused."""
    functions = max(8, round(kib * 1024 / BYTES_PER_FUNCTION))
    project = workdir / f"gen-{kib}k-s{seed}"
    elf = project / "build" / "mps2-an500" / "firmware.elf"
    if not elf.is_file():
        if project.exists():
            shutil.rmtree(project)
        generate(project, functions, per_file, seed)
        subprocess.run([sys.executable, "-m", "SCons", "-Q", f"-j{os.cpu_count() or 1}",
                        "board=mps2-an500", "build/mps2-an500/firmware.elf"], cwd=project,
                       check=True, stdout=subprocess.DEVNULL)
    return elf, elf.parent


def text_bytes(elf: Path) -> int:
    """Bytes of executable sections (what verify and objdump -d decode)."""
    out = subprocess.run(["arm-none-eabi-readelf", "-SW", str(elf)], capture_output=True,
                         text=True, check=True).stdout
    total = 0
    for line in out.splitlines():
        if "]" not in line:
            continue
        fields = line.split("]", 1)[1].split()
        if len(fields) >= 7 and "X" in fields[6] and "A" in fields[6]:
            total += int(fields[4], 16)
    return total


def child(command: list[str]) -> tuple[float, float, int]:
    """(wall s, CPU s, peak RSS bytes) of one run of `command` in a child process."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _pid, _status, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    wall = time.perf_counter() - start
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss * 1024


@dataclass
class Row:
    name: str
    text: int
    elf_bytes: int
    functions: int = 0
    verify_cpu: float = 0.0            # in-process
    heap_peak: int = 0
    cli: tuple[float, float] = (0.0, 0.0)   # wall, CPU
    cli_rss: int = 0
    cached: tuple[float, float] | None = None
    objdump: tuple[float, float] = (0.0, 0.0)
    puncover: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)


def medians(samples: list[tuple[float, ...]]) -> tuple[float, ...]:
    return tuple(statistics.median(s[i] for s in samples) for i in range(len(samples[0])))


def measure(name: str, elf: Path, board: str | None, su_dir: Path | None, repeat: int,
            puncover_python: str | None, cache_dir: Path | None) -> Row:
    from fwharden.harden import HardenPolicy, verify_elf
    from fwharden.harden.analysis.run import su_files_in

    su_files = su_files_in([su_dir]) if su_dir else []
    row = Row(name, text_bytes(elf), elf.stat().st_size)
    run = lambda: verify_elf(elf, board, HardenPolicy(), su_files=su_files)  # noqa: E731
    run()   # warm: imports and the catalog are start-up, measured by the CLI column
    tracemalloc.start()
    result = run()
    row.heap_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    row.functions = result.functions_analysed
    cpu = []
    for _ in range(repeat):
        start = time.process_time()
        run()
        cpu.append(time.process_time() - start)
    row.verify_cpu = statistics.median(cpu)
    cli = [str(Path(sys.executable).parent / "fwharden"), "verify", str(elf)]
    cli += ["--board", board] if board else []
    cli += ["--su-dir", str(su_dir)] if su_dir else []
    runs = [child(cli) for _ in range(repeat)]
    row.cli = medians([r[:2] for r in runs])[:2]
    row.cli_rss = max(r[2] for r in runs)
    if cache_dir is not None:
        directory = cache_dir / name
        shutil.rmtree(directory, ignore_errors=True)
        child([*cli, "--cache", str(directory)])          # fills it
        row.cached = medians([child([*cli, "--cache", str(directory)])[:2]
                              for _ in range(repeat)])[:2]
    row.objdump = medians([child(["arm-none-eabi-objdump", "-d", str(elf)])[:2]
                           for _ in range(repeat)])[:2]
    if puncover_python:
        base = str(Path(shutil.which("arm-none-eabi-gcc")).parent / "arm-none-eabi-")
        out = subprocess.run([puncover_python, "-c", PUNCOVER, str(elf), base,
                              str(su_dir or ""), str(max(1, repeat // 2 + 1))],
                             capture_output=True, text=True)
        if out.returncode == 0:
            row.puncover = medians([tuple(t) for t in json.loads(out.stdout)])[:2]
        else:
            row.notes.append(f"puncover failed: {out.stderr.strip().splitlines()[-1:]}")
    return row


def kib(n: int) -> str:
    return f"{n / 1024:.0f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def report(rows: list[Row], generated: list[Row]) -> str:
    """The table (markdown, so it pastes into a note), then the scaling figures."""
    # CPU seconds (user + system, children included) are the figures to compare on a
    # shared machine; wall seconds are shown beside them.
    head = ("| firmware | code | funcs | verify in-proc CPU s | verify CLI CPU s (wall) "
            "| cached CLI CPU s (wall) | objdump -d CPU s (wall) | puncover CPU s (wall) "
            "| CLI/objdump CPU (wall) | CLI/puncover CPU (wall) | heap peak / ELF | CLI RSS |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        punc = f"{r.puncover[1]:.3f} ({r.puncover[0]:.3f})" if r.puncover else "-"
        vs_punc = (f"{r.cli[1] / r.puncover[1]:.2f} ({r.cli[0] / r.puncover[0]:.2f})"
                   if r.puncover else "-")
        cached = f"{r.cached[1]:.3f} ({r.cached[0]:.3f})" if r.cached else "-"
        lines.append(
            f"| {r.name} | {kib(r.text)} | {r.functions} | {r.verify_cpu:.3f} "
            f"| {r.cli[1]:.3f} ({r.cli[0]:.3f}) | {cached} "
            f"| {r.objdump[1]:.3f} ({r.objdump[0]:.3f}) | {punc} "
            f"| {r.cli[1] / max(r.objdump[1], 1e-3):.2f} ({r.cli[0] / r.objdump[0]:.2f}) "
            f"| {vs_punc} | {r.heap_peak / r.elf_bytes:.1f}x of {kib(r.elf_bytes)} "
            f"| {r.cli_rss / (1 << 20):.0f} MiB |")
        lines.extend(f"  note: {n}" for n in r.notes)
    if len(generated) > 1:
        lines.append("")
        lines.append("growth of verify (in-process CPU) with code size: exponent k in "
                     "t ~ size^k between neighbours (1.0 = linear)")
        for a, b in zip(generated, generated[1:], strict=False):
            k = math.log(b.verify_cpu / a.verify_cpu) / math.log(b.text / a.text)
            lines.append(f"  {kib(a.text)} -> {kib(b.text)}: x{b.text / a.text:.1f} code, "
                         f"x{b.verify_cpu / a.verify_cpu:.1f} time, k = {k:.2f}; "
                         f"{b.verify_cpu / b.text * 1e6 * 1024:.0f} us per KiB")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="40,200,1024,4096",
                        help="KiB of generated code, comma separated ('' for none)")
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: temp dir)")
    parser.add_argument("--elf", action="append", default=[],
                        help="real firmware: PATH[:BOARD[:SU_DIR]] (repeatable)")
    parser.add_argument("--puncover-python", default=os.environ.get("PUNCOVER_PYTHON"),
                        help="an interpreter with puncover installed ($PUNCOVER_PYTHON)")
    parser.add_argument("--cache", action="store_true",
                        help="also time the CLI with a warm --cache")
    args = parser.parse_args()

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="fwh-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    cache_dir = workdir / "verify-cache" if args.cache else None
    generated, real = [], []
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        elf, build = build_generated(workdir, size, args.per_file, args.seed)
        generated.append(measure(f"generated {size} KiB", elf, "mps2-an500", build,
                                 args.repeat, args.puncover_python, cache_dir))
        print(report(generated[-1:], []), end="", flush=True)
    for spec in args.elf:
        path, board, su = (spec.split(":") + [None, None])[:3]
        real.append(measure(Path(path).stem, Path(path), board or None,
                            Path(su) if su else None, args.repeat, args.puncover_python,
                            cache_dir))
        print(report(real[-1:], []), end="", flush=True)
    print()
    print(report(generated + real, generated), end="")
    if not args.puncover_python:
        print("puncover: not measured (give --puncover-python with puncover installed)")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
