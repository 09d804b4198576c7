"""TinyGo's own crash lines (src/runtime/runtime_cortexm_hardfault*.go, runtime_fe310.go,
internal/task/task_stack.go), parsed without an ELF."""

from __future__ import annotations

from fwharden.harden.faults.tinygo import find_tinygo_fault


def test_arm_hardfault_line_gives_sp_and_pc() -> None:
    fault = find_tinygo_fault("boot\nfatal error: data access violation with fault address "
                              "0x2001fff0 with sp=0x2001ffe8 pc=0x080003a2\n")
    assert fault is not None and not fault.canary
    assert fault.cause == "data access violation"
    assert fault.fields == {"addr": 0x2001FFF0, "sp": 0x2001FFE8, "pc": 0x080003A2}


def test_riscv_exception_line_and_goroutine_canary_panic() -> None:
    fault = find_tinygo_fault("fatal error: exception with mcause=7 pc=0x200112dc\n")
    assert fault is not None and fault.fields == {"mcause": 7, "pc": 0x200112DC}
    canary = find_tinygo_fault("panic: runtime error at 0x0800046c: goroutine stack overflow\n")
    assert canary is not None and canary.canary
    assert find_tinygo_fault("hello\n") is None
