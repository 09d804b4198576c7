"""Issue 12 item 9: a handler that provably never returns gets the fault-context rules:
printing is a warning, allocation stays an error; a handler that returns is unchanged.

Assembled with arm-none-eabi-as -mcpu=cortex-m4 -mthumb, ld -Ttext 0x100 (objdump):
  HardFault_Handler @ 0x100: push {r3, lr}; bl printf; bl malloc; 1: b 1b
  handler @ 0x10c: push {r3, lr}; bl printf; pop {r3, pc}
  tailer  @ 0x114: b.w forever          forever @ 0x118: bl printf; 1: b 1b
  printf  @ 0x11e: bx lr     malloc @ 0x120: bx lr     reset @ 0x122: b.w reset
"""

from __future__ import annotations

from synth import image

from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.callgraph import CallGraph
from fwharden.harden.analysis.context import never_returns
from fwharden.harden.analysis.verify import verify

CODE = "08b500f00cf800f00bf8fee708b500f006f808bd00f000b800f001f8fee770477047fff7febf"
SYMBOLS = {"HardFault_Handler": (0x101, 12, "STT_FUNC", "STB_GLOBAL"),
           "handler": (0x10d, 8, "STT_FUNC", "STB_GLOBAL"),
           "tailer": (0x115, 4, "STT_FUNC", "STB_GLOBAL"),
           "forever": (0x119, 6, "STT_FUNC", "STB_GLOBAL"),
           "printf": (0x11f, 2, "STT_FUNC", "STB_GLOBAL"),
           "malloc": (0x121, 2, "STT_FUNC", "STB_GLOBAL"),
           "reset": (0x123, 4, "STT_FUNC", "STB_GLOBAL")}


def _image():
    return image("arm", CODE, 0x100, SYMBOLS,
                 vectors=[0x20001000, "reset", 0, "HardFault_Handler", "handler", "tailer"])


def test_never_returns_from_the_code() -> None:
    img = _image()
    graph = CallGraph(img)
    graph.expand([img.function_named(n) for n in ("HardFault_Handler", "handler", "tailer")])
    at = {n: img.function_named(n).address for n in SYMBOLS}
    assert never_returns(graph, at["HardFault_Handler"])
    assert never_returns(graph, at["tailer"])      # its tail call goes to an endless loop
    assert not never_returns(graph, at["handler"])
    assert not never_returns(graph, at["printf"])


def test_printing_in_fault_context_is_a_warning_allocation_stays_an_error() -> None:
    result = verify(_image(), None, HardenPolicy(), {})
    level = {(f.root, f.rule): f.severity for f in result.findings}
    assert level[("HardFault_Handler", "stdio")] == "warning"
    assert level[("HardFault_Handler", "heap")] == "error"
    assert level[("tailer", "stdio")] == "warning"
    assert level[("handler", "stdio")] == "error"


def test_riscv_compressed_return_is_a_return() -> None:
    # c.jr ra (8082) at the end of g: g returns (riscv64-unknown-elf-as, rv32imac)
    from test_arguments import RV_CODE, RV_SYMBOLS
    img = image("riscv", RV_CODE, 0x100, RV_SYMBOLS)
    graph = CallGraph(img)
    graph.expand([img.function_named("f")])
    assert not never_returns(graph, img.function_named("g").address)
    assert not never_returns(graph, img.function_named("f").address)
