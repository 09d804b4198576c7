"""Issue 12 items 4 and 5: renamed library functions still match; [harden.allow] stops the
walk into the allowed function while its stack still counts (or a declared `stack = N`).

(The symbol at 0x110 was `_puts_r` in the source; the table names it __sfvwrite_r, a
stdio function that is not puts under any name, so only the walk stop can hide it.)
Assembled with arm-none-eabi-as -mcpu=cortex-m4 -mthumb, ld -Ttext 0x100 (objdump):
  handler  @ 0x100: push {r3, lr}; bl puts; pop {r3, pc}
  puts     @ 0x108: push {r4, lr}; bl __sfvwrite_r; pop {r4, pc}
  __sfvwrite_r @ 0x110: push {r4, r5, r6, lr}; pop {r4, r5, r6, pc}
  handler2 @ 0x114: b.w __wrap_printf
  __wrap_printf @ 0x118: bx lr
  reset    @ 0x11a: b.w reset
"""

from __future__ import annotations

from pathlib import Path

import pytest
from synth import image

from fwharden.board_profiles.errors import ConfigError
from fwharden.board_profiles.project import HardenPolicy, harden_policy
from fwharden.harden.analysis.rules import rule_names, rule_set
from fwharden.harden.analysis.verify import verify

CODE = "08b500f001f808bd10b500f001f810bd70b570bd00f000b87047fff7febf"
SYMBOLS = {"handler": (0x101, 8, "STT_FUNC", "STB_GLOBAL"),
           "puts": (0x109, 8, "STT_FUNC", "STB_GLOBAL"),
           "__sfvwrite_r": (0x111, 4, "STT_FUNC", "STB_GLOBAL"),
           "handler2": (0x115, 4, "STT_FUNC", "STB_GLOBAL"),
           "__wrap_printf": (0x119, 2, "STT_FUNC", "STB_GLOBAL"),
           "reset": (0x11b, 4, "STT_FUNC", "STB_GLOBAL")}


def _verify(policy: HardenPolicy):
    img = image("arm", CODE, 0x100, SYMBOLS,
                vectors=[0x20001000, "reset", 0, "handler", "handler2"])
    return verify(img, None, policy, {})


@pytest.mark.parametrize("name, plain", [("__wrap_printf", "printf"), ("_puts_r", "puts"),
                                         ("__wrap_puts.part.0", "puts"),
                                         ("malloc.constprop.0", "malloc"), ("_r", "_r")])
def test_rule_names_strip_wrap_reent_and_clone_forms(name: str, plain: str) -> None:
    assert rule_names(name)[-1] == plain


def test_wrapped_printf_is_printf() -> None:
    result = _verify(HardenPolicy())
    stdio = {(f.root, f.path[-1]) for f in result.findings if f.rule == "stdio"}
    assert ("handler2", "__wrap_printf") in stdio
    assert rule_set().match(("__wrap_printf",))[0].rule == "stdio"


def test_without_allow_puts_is_an_error() -> None:
    result = _verify(HardenPolicy())
    assert any(f.rule == "stdio" and f.root == "handler" for f in result.findings)


def test_allow_stops_the_walk_but_the_stack_still_counts() -> None:
    result = _verify(HardenPolicy(allow=(("puts", "semihosting in the test build"),)))
    assert not any(f.root == "handler" and f.rule == "stdio" for f in result.findings)
    (note,) = [f for f in result.findings if f.rule == "allowed"]
    assert note.severity == "note" and "semihosting in the test build" in note.message
    by_name = {i.name: i for i in result.interrupts}
    # handler 8 + puts 8 + __sfvwrite_r 16 (objdump above)
    assert by_name["handler"].stack.bytes == 32


def test_allow_with_a_declared_stack_replaces_what_it_calls() -> None:
    policy = HardenPolicy(allow=(("puts", "measured"),), allow_stack=(("puts", 100),))
    result = _verify(policy)
    assert {i.name: i for i in result.interrupts}["handler"].stack.bytes == 8 + 100


def test_allow_table_form_parses_and_checks() -> None:
    policy = harden_policy({"allow": {"puts": {"reason": "r", "stack": 64}, "putchar": "why"}},
                           Path("firmware.toml"))
    assert policy.allow == (("puts", "r"), ("putchar", "why"))
    assert policy.allow_stack == (("puts", 64),)
    for bad in ({"puts": {"stack": 64}}, {"puts": {"reason": "r", "stack": -1}},
                {"puts": {"reason": "r", "depth": 1}}, {"puts": 3}):
        with pytest.raises(ConfigError):
            harden_policy({"allow": bad}, Path("firmware.toml"))
