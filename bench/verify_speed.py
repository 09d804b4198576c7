#!/usr/bin/env python3
"""Benchmark: `fwharden verify` against `arm-none-eabi-objdump -d` and puncover.

Generates a large firmware (thousands of functions, about 1 MiB of Thumb-2 code) whose
interrupt handlers reach nearly all of it, builds it with the fwharden SCons tool
(arm-none-eabi-gcc -O2, board mps2-an500), then times on the same ELF, in this process:
  - fwharden verify (the whole analysis, in-process, and the CLI as a user runs it);
  - arm-none-eabi-objdump -d (the reference: it only prints the disassembly);
  - puncover's collector (ELF + .su parsing and call tree), if puncover is installed
    (`pip install puncover`; it pins Flask, so a separate virtual environment is wise).
Prints each median of --repeat runs and the ratios. Target: verify no slower than objdump.

    .venv/bin/python bench/verify_speed.py [--functions 4000] [--repeat 5] [--keep DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
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


def median_time(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--functions", type=int, default=4000)
    parser.add_argument("--per-file", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="build here and keep it (default: temp dir)")
    args = parser.parse_args()

    from fwharden.board_profiles import load_profile
    from fwharden.harden import HardenPolicy, verify_elf

    workdir = args.keep or Path(tempfile.mkdtemp(prefix="fwh-bench-"))
    project = workdir / "bench"
    if project.exists():
        shutil.rmtree(project)
    generate(project, args.functions, args.per_file, args.seed)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "SCons", "-Q", "board=mps2-an500"], cwd=project,
                   check=True, stdout=subprocess.DEVNULL)
    build_s = time.perf_counter() - started
    elf = project / "build" / "mps2-an500" / "firmware.elf"
    text = next(int(line.split(".text", 1)[1].split()[3], 16) for line in subprocess.run(
        ["arm-none-eabi-readelf", "-SW", str(elf)], capture_output=True, text=True,
        check=True).stdout.splitlines() if " .text " in line)
    profile = load_profile("mps2-an500")

    result = verify_elf(elf, profile, HardenPolicy())
    verify_s = median_time(lambda: verify_elf(elf, profile, HardenPolicy()), args.repeat)
    cli = [str(Path(sys.executable).parent / "fwharden"), "verify", str(elf), "--board",
           "mps2-an500"]
    cli_s = median_time(lambda: subprocess.run(cli, stdout=subprocess.DEVNULL), args.repeat)
    objdump_s = median_time(lambda: subprocess.run(["arm-none-eabi-objdump", "-d", str(elf)],
                                                   stdout=subprocess.DEVNULL, check=True),
                            args.repeat)
    print(f"firmware: {args.functions} generated functions, .text {text} bytes "
          f"({text / 1024:.0f} KiB), built in {build_s:.1f} s")
    print(f"verify analysed {result.functions_analysed} functions, {result.instructions} "
          f"instructions; verdict {result.verdict}")
    print(f"fwharden verify (in-process)   {verify_s:8.3f} s")
    print(f"fwharden verify (CLI process)  {cli_s:8.3f} s")
    print(f"arm-none-eabi-objdump -d       {objdump_s:8.3f} s")
    print(f"ratio verify/objdump: in-process {verify_s / objdump_s:.2f}, "
          f"CLI {cli_s / objdump_s:.2f}")
    try:
        from puncover.collector import Collector
        from puncover.gcc_tools import GCCTools
    except ImportError:
        print("puncover: not installed here (pip install puncover), ratio not measured")
    else:
        gcc_base = str(Path(shutil.which("arm-none-eabi-gcc")).parent / "arm-none-eabi-")

        def puncover() -> None:
            # puncover prints its progress; keep the benchmark's output readable.
            with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
                collector = Collector(GCCTools(gcc_base))
                collector.parse_elf(elf)
                collector.enhance(str(project))
                collector.parse_su_dir(str(elf.parent))

        puncover_s = median_time(puncover, max(1, args.repeat // 2))
        print(f"puncover collector             {puncover_s:8.3f} s")
        print(f"ratio verify/puncover: in-process {verify_s / puncover_s:.2f}, "
              f"CLI {cli_s / puncover_s:.2f}")
    if not args.keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
