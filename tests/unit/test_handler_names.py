"""installed.py's name rules and make's command-line variables, without a compiler."""

from __future__ import annotations

from pathlib import Path

from fwharden.harden.analysis.uninstalled import closest_vector, looks_like_handler, uninstalled
from fwharden.importer.makefile import read_makefile

VECTORS = ["USART1_IRQHandler", "USART2_IRQHandler", "USART3_IRQHandler", "SysTick_Handler",
           "TIM1_UP_TIM10_IRQHandler"]


def test_the_closest_vector_ignores_case() -> None:
    assert closest_vector("USART2_IRQhandler", VECTORS) == "USART2_IRQHandler"
    assert closest_vector("TIM1_UP_TIM10_IRQHandelr", VECTORS) == "TIM1_UP_TIM10_IRQHandler"
    assert closest_vector("Flash_Erase_Handler", VECTORS) is None


def test_what_counts_as_a_handler_name() -> None:
    assert looks_like_handler("USART2_IRQhandler") and looks_like_handler("MyTick_Handler")
    assert looks_like_handler("eclic_mtip_handler", lower_case=True)
    assert not looks_like_handler("demo_low_handler")   # a helper, in a table of *_IRQHandler
    for name in ("HAL_UART_IRQHandler", "Error_Handler", "Default_Handler", "uart_rx", "fwh_x_Handler"):
        assert not looks_like_handler(name), name


def test_referenced_or_installed_functions_are_not_findings() -> None:
    defined = [("USART2_IRQHandler", "a.c", 1, None), ("USART2_IRQhandler", "a.c", 2, None),
               ("UART0_IRQHandler", "plic.c", 3, None)]
    found = uninstalled(defined, VECTORS, referenced={"UART0_IRQHandler"})
    assert [(u.name, u.suggestion, u.line) for u in found] == [
        ("USART2_IRQhandler", "USART2_IRQHandler", 2)]
    assert "did you mean USART2_IRQHandler?" in found[0].message


def test_command_line_variables_win_over_the_file_unless_override(tmp_path: Path) -> None:
    makefile = tmp_path / "Makefile"
    makefile.write_text("OPT = -Og\nOPT += -g3\nDEBUG := 1\noverride LTO = -flto\n"
                        "CFLAGS = $(OPT) $(LTO)\n")
    made = read_makefile(makefile, {"OPT": "-Os -fcommon", "LTO": "", "DEBUG": "0"})
    assert made.words("CFLAGS") == ["-Os", "-fcommon", "-flto"]
    assert made.value("DEBUG") == "0"
    assert made.where["OPT"] == "command line" and made.where["CFLAGS"] == "Makefile:5"
