"""Issue 12 item 3: argument-aware rules on firmware built with the real compilers.

tests/firmware/verify_args calls xTimerGenericCommand (as FreeRTOS's FromISR macros do),
osSemaphoreAcquire and osMessageQueuePut from handlers with constant and computed
arguments. The expected verdict per handler comes from the C source (the constant each
call passes), not from fwharden: a FromISR command id (6, 8) or timeout 0 is allowed, a
task-level command (1), a timeout of 10 or osWaitForever, or a value read from a volatile
is an error.
"""

from __future__ import annotations

import json

import pytest
from conftest import REPO, built_copy

SOURCE = REPO / "tests" / "firmware" / "verify_args"
VARIANTS = [("gcc", "0"), ("gcc", "2"), ("gcc", "s"), ("clang", "2"), ("clang", "z")]
EXPECTED_ERRORS = {
    ("UART0TX_IRQHandler", "freertos-blocking"): "xCommandID = 1",
    ("UART1RX_IRQHandler", "freertos-blocking"): "xCommandID = unknown",
    ("GPIO0_IRQHandler", "cmsis-rtos2-timeout"): "timeout = 10",
    ("GPIO1_IRQHandler", "cmsis-rtos2-timeout"): "timeout = 0xffffffff",
}
EXPECTED_ALLOWED = {("UART0RX_IRQHandler", "xCommandID = 6"),
                    ("UART0RX_IRQHandler", "xCommandID = 8"),
                    ("UART1TX_IRQHandler", "timeout = 0")}


@pytest.fixture(scope="module", params=VARIANTS, ids=["-".join(v) for v in VARIANTS])
def report(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    toolchain, opt = request.param
    elf = built_copy(SOURCE, tmp_path_factory.mktemp("args") / "fw", "mps2-an500",
                     f"toolchain={toolchain}", f"opt={opt}")
    return json.loads((elf.parent / "verify.json").read_text())


def test_forbidden_arguments_are_errors_naming_the_value(report) -> None:
    errors = {(f["root"], f["rule"]): f for f in report["findings"] if f["severity"] == "error"}
    for key, text in EXPECTED_ERRORS.items():
        assert key in errors, f"missing {key}; got {sorted(errors)}"
        assert text in errors[key]["message"], errors[key]["message"]
    assert set(errors) == set(EXPECTED_ERRORS)


def test_allowed_arguments_are_notes_not_errors(report) -> None:
    notes = [f for f in report["findings"] if f["rule"] == "library-model"]
    seen = {(f["root"], text) for f in notes for _root, text in EXPECTED_ALLOWED
            if text in f["message"]}
    assert seen >= EXPECTED_ALLOWED
    assert all(f["severity"] == "note" for f in notes)
    clean = {"UART0RX_IRQHandler", "UART1TX_IRQHandler"}
    assert not [f for f in report["findings"]
                if f["root"] in clean and f["severity"] in ("error", "warning")]
