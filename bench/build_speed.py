#!/usr/bin/env python3
"""Benchmark: `scons -jN` on an imported CubeMX-style project against `make -jN`.

Writes a CubeMX-style Makefile project with a few hundred C files (tests/cubemx.py), imports
it with `fwharden import-makefile` (vendor mode: same compiler, same flags), then times in
this process, as medians of --repeat runs:
  - a clean `make -jN` build (all: .elf .hex .bin);
  - a clean `scons -jN` build of the same firmware (.elf .bin .hex), and of the default
    targets (which add verify, the HTML report and the manifest);
  - no-op rebuilds of both.
Prints the times and the ratios scons / make.

    .venv/bin/python bench/build_speed.py [--files 300] [--jobs N] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))

from cubemx import write_cubemx_project  # noqa: E402  (test helper, shared on purpose)


def timed(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    work = args.keep or Path(tempfile.mkdtemp(prefix="fwh-build-bench-"))
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    write_cubemx_project(work, "STM32H743xx", extra_files=args.files)
    fwharden = str(Path(sys.executable).parent / "fwharden")
    subprocess.run([fwharden, "import-makefile", str(work / "Makefile")], check=True,
                   stdout=subprocess.DEVNULL)
    # The benchmark project is generated code: it is built, not judged.
    toml = work / "firmware.toml"
    toml.write_text(toml.read_text().replace('fail_on = "error"', 'fail_on = "never"'))
    jobs = f"-j{args.jobs}"
    scons = [sys.executable, "-m", "SCons", "-Q", jobs]
    firmware = [f"build/stm32h743/firmware.{ext}" for ext in ("elf", "bin", "hex")]
    results: dict[str, list[float]] = {k: [] for k in
                                       ("make", "scons-firmware", "scons-all", "make-noop",
                                        "scons-noop")}
    for _ in range(args.repeat):
        shutil.rmtree(work / "build", ignore_errors=True)
        results["make"].append(timed(["make", jobs], work))
        results["make-noop"].append(timed(["make", jobs], work))
        shutil.rmtree(work / "build", ignore_errors=True)
        (work / ".sconsign.dblite").unlink(missing_ok=True)
        results["scons-firmware"].append(timed([*scons, *firmware], work))
        shutil.rmtree(work / "build", ignore_errors=True)
        (work / ".sconsign.dblite").unlink(missing_ok=True)
        results["scons-all"].append(timed(scons, work))
        results["scons-noop"].append(timed(scons, work))
    m = {k: median(v) for k, v in results.items()}
    sources = args.files + 4
    print(f"project: {sources} sources (CubeMX-style, STM32H743, -Og), {jobs}")
    print(f"clean make                       {m['make']:7.2f} s")
    print(f"clean scons (.elf .bin .hex)     {m['scons-firmware']:7.2f} s   "
          f"ratio {m['scons-firmware'] / m['make']:.2f}")
    print(f"clean scons (+ verify, report, manifest) {m['scons-all']:7.2f} s   "
          f"ratio {m['scons-all'] / m['make']:.2f}")
    print(f"no-op make                       {m['make-noop']:7.2f} s")
    print(f"no-op scons                      {m['scons-noop']:7.2f} s")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
