"""TinyGo's own crash lines (src/runtime/runtime_cortexm_hardfault*.go, runtime_fe310.go,
internal/task/task_stack.go), parsed without an ELF."""

from __future__ import annotations

from synth import image

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


def _arm_image():
    # main.poke @ 0x18d0 (ldr r0, [pc, #4]; movs r1, #1; str r1, [r0]; bx lr), fwharden's
    # TinyGo layout: interrupt stack 0x20000000-0x20000400, heap from 0x20000d60.
    return image("arm", "014801210160704700000000", 0x18D0, {
        "main.poke": (0x18D1, 8, "STT_FUNC", "STB_GLOBAL"),
        "__fwh_isr_stack_start": (0x20000000, 0, "STT_NOTYPE", "STB_GLOBAL"),
        "__fwh_isr_stack_end": (0x20000400, 0, "STT_NOTYPE", "STB_GLOBAL"),
        "_heap_start": (0x20000D60, 0, "STT_NOTYPE", "STB_GLOBAL"),
        "_heap_end": (0x20004000, 0, "STT_NOTYPE", "STB_GLOBAL")})


def test_arm_hardfault_sp_is_the_msp_and_a_pc_in_no_function_is_said_so() -> None:
    # TinyGo's HardFault_Handler prints the MSP it entered with and a PC read from there
    # (device/arm/cortexm.S); a goroutine's fault frame is on the PSP. Seen on QEMU's
    # microbit: main.poke faulted, TinyGo printed sp=0x200003dc pc=0x00000074.
    from fwharden.harden.faults.decode import _decode_tinygo

    class NoLines:   # the hand-built image has no DWARF
        def lookup(self, address: int) -> None:
            return None

    img = _arm_image()
    fault = find_tinygo_fault("fatal error: HardFault with sp=0x200003dc pc=0x00000074\n")
    decoded = _decode_tinygo(img, NoLines(), fault)
    assert decoded.summary.startswith("TinyGo fatal error: HardFault; sp (the MSP) on the "
                                      "interrupt stack")
    assert any("PSP" in d and "MSP" in d for d in decoded.details)
    assert any(d.startswith("pc=0x00000074 is in no function") for d in decoded.details)
    # A PC inside the code is located and not doubted.
    fault = find_tinygo_fault("fatal error: HardFault with sp=0x200003dc pc=0x000018d4\n")
    decoded = _decode_tinygo(img, NoLines(), fault)
    assert decoded.pc.function == "main.poke"
    assert not any("in no function" in d for d in decoded.details)
