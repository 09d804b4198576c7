"""Start-up imports only what the command needs (issue 19 item 1).

Each check runs a fresh interpreter and asserts on `sys.modules` after the command, not on
time: LIEF (~0.6 s to import), capstone, pyelftools, the TOML catalog, jsonschema and the
HTML writer each load only where used. The ELF for `verify` is written here by hand (a
two-word vector table and a `b .` Reset_Handler), so the check needs no cross compiler.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
from pathlib import Path

PROBE = """\
import contextlib, io, json, sys
from fwharden.cli import main
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    try:
        status = main(sys.argv[2:])
    except SystemExit as exc:
        status = exc.code
print(json.dumps({"status": status,
                  "loaded": sorted(m for m in json.loads(sys.argv[1]) if m in sys.modules)}))
"""
HEAVY = ["lief", "capstone", "elftools", "jsonschema", "tomllib", "tomli", "SCons",
         "fwharden.harden.report.html", "fwharden.harden.analysis.verify",
         "fwharden.board_profiles.loader", "fwharden.importer.project"]


def loaded_after(argv: list[str], watch: list[str] = HEAVY) -> tuple[int, list[str]]:
    """(exit status, which of `watch` are imported) after `fwharden ARGV` in a new process."""
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(watch), *argv],
                         capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.splitlines()[-1])
    return result["status"], result["loaded"]


def tiny_arm_elf() -> bytes:
    """A 32-bit ARM executable (ELF spec: header, section headers, Elf32_Sym): a two-word
    .isr_vector at 0 (initial SP, Reset_Handler | 1) and .text at 0x100 holding `b .`."""
    vectors = struct.pack("<II", 0x20001000, 0x101)
    text = bytes.fromhex("fee7")                                  # b . (Thumb, T2 encoding)
    strtab = b"\0Reset_Handler\0$t\0"
    symtab = (b"\0" * 16
              + struct.pack("<IIIBBH", 15, 0x100, 0, 0x00, 0, 2)   # $t: local, notype
              + struct.pack("<IIIBBH", 1, 0x101, 2, 0x12, 0, 2))   # Reset_Handler: global func
    shstr = b"\0.isr_vector\0.text\0.symtab\0.strtab\0.shstrtab\0"
    blobs = (vectors, text, symtab, strtab, shstr)
    offsets, body = [], b""
    for blob in blobs:
        offsets.append(52 + len(body))
        body += blob + b"\0" * (-len(blob) % 4)

    def header(name: str, index: int, kind: int, flags: int = 0, addr: int = 0, link: int = 0,
               info: int = 0, entsize: int = 0) -> bytes:
        return struct.pack("<IIIIIIIIII", shstr.index(name.encode() + b"\0"), kind, flags, addr,
                           offsets[index], len(blobs[index]), link, info, 4, entsize)

    sections = (b"\0" * 40
                + header(".isr_vector", 0, 1, flags=2)                # PROGBITS, ALLOC
                + header(".text", 1, 1, flags=6, addr=0x100)          # ALLOC | EXECINSTR
                + header(".symtab", 2, 2, link=4, info=2, entsize=16)
                + header(".strtab", 3, 3) + header(".shstrtab", 4, 3))
    elf_header = (b"\x7fELF\x01\x01\x01" + b"\0" * 9
                  + struct.pack("<HHIIIIIHHHHHH", 2, 40, 1, 0x101, 0, 52 + len(body),
                                0x05000000, 52, 0, 0, 40, 6, 5))   # EM_ARM, EABI5
    return elf_header + body + sections


def test_version_imports_nothing_heavy() -> None:
    status, loaded = loaded_after(["--version"])
    assert status == 0 and loaded == []


def test_verify_imports_the_analysis_only(tmp_path: Path) -> None:
    elf = tmp_path / "tiny.elf"
    elf.write_bytes(tiny_arm_elf())
    status, loaded = loaded_after(["verify", str(elf)])
    assert status == 0
    # The analysis ran (it needs pyelftools and capstone) ...
    assert {"elftools", "capstone", "fwharden.harden.analysis.verify"} <= set(loaded)
    # ... but not the stack-map patcher, the schema check, the HTML report or SCons.
    assert not {"lief", "jsonschema", "fwharden.harden.report.html", "SCons",
                "fwharden.importer.project"} & set(loaded)


def test_scons_tool_loads_no_elf_reader() -> None:
    """SConstruct imports the tool on every run, a no-op rebuild too: the ELF readers and
    the analysis come with the actions that use them."""
    probe = ("import json, sys; import fwharden.scons.tool; "
             "print(json.dumps(sorted(m for m in sys.argv[1:] if m in sys.modules)))")
    out = subprocess.run([sys.executable, "-c", probe, "lief", "capstone", "elftools",
                          "jsonschema", "fwharden.harden.elf.image",
                          "fwharden.harden.analysis.verify"],
                         capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
