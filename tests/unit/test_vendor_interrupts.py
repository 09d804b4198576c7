"""The catalog's interrupt lists against the vendors' own data, not against fwharden.

Oracles: the SVD files that registry packages carry: ST's STM32F40x.svd in the `cmsis-svd`
0.4 source distribution, NXP's MIMXRT1064 SVD inside the `pyocd` wheel
(pyocd/debug/svd/svd_data.zip). pip downloads them once into a cache directory
(FWH_SVD_CACHE, default ~/.cache/fwharden-svd), pinned by version and SHA-256. The lines no
package's SVD covers are checked against the reference manuals' vector tables.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
import zipfile
from functools import cache
from pathlib import Path

import pytest

from fwharden.board_profiles import load_profile
from fwharden.linker.vectors import vector_entries

# name==version, file, SHA-256 of the file PyPI serves (checked by pip --require-hashes).
PACKAGES = {
    "cmsis-svd": ("cmsis-svd==0.4", "cmsis-svd-0.4.tar.gz",
                  "b5f439fc6bbc43c9b56dd822f1f764359d503c685a42f913a1cfc2a3c6c42b2c"),
    "pyocd": ("pyocd==0.46.0", "pyocd-0.46.0-py3-none-any.whl",
              "f37c1ef65a1e78b42c9bccf4f34fbde98c4ea225e87534ee872e324aae230ba5"),
}


def _cache() -> Path:
    return Path(os.environ.get("FWH_SVD_CACHE", Path.home() / ".cache" / "fwharden-svd"))


@cache
def _download(package: str) -> Path:
    requirement, filename, sha256 = PACKAGES[package]
    directory = _cache()
    target = directory / filename
    if target.is_file():
        return target
    directory.mkdir(parents=True, exist_ok=True)
    requirements = directory / f"{package}.requirements.txt"
    requirements.write_text(f"{requirement} --hash=sha256:{sha256}\n")
    kind = ["--no-binary", ":all:"] if filename.endswith(".tar.gz") else ["--only-binary", ":all:"]
    result = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--require-hashes", *kind,
         "-r", str(requirements), "-d", str(directory)],
        capture_output=True, text=True, check=False, timeout=600)
    assert result.returncode == 0 and target.is_file(), result.stderr[-2000:]
    return target


def _svd_interrupts(xml: bytes) -> dict[int, str]:
    """<interrupt><name>, <value> of every peripheral (a line shared by two peripherals is
    listed twice with one name)."""
    lines: dict[int, str] = {}
    for node in ET.fromstring(xml).iter("interrupt"):
        lines.setdefault(int(node.findtext("value")), node.findtext("name").strip())
    return lines


def _names(board: str) -> dict[int, str]:
    profile = load_profile(board)
    return {number: name for name, number in profile.interrupts.names}


def test_stm32f407_matches_st_svd() -> None:
    archive = _download("cmsis-svd")
    with tarfile.open(archive) as tar:
        member = tar.extractfile("cmsis-svd-0.4/cmsis_svd/data/STMicro/STM32F40x.svd")
        svd = _svd_interrupts(member.read())
    ours = _names("stm32f407")
    # ST's SVD of 2015 spells some lines with an _IRQ suffix and lacks FLASH (4), RNG (80)
    # and FPU (81), which the CMSIS header and RM0090 Table 61 have.
    assert len(svd) >= 70
    for number, name in svd.items():
        assert ours.get(number) == name.removesuffix("_IRQ"), (number, name)
    assert (ours[4], ours[80], ours[81]) == ("FLASH", "RNG", "FPU")
    assert 79 not in ours and len(ours) == 81   # 79 is CRYP, which the F407 lacks


def test_imxrt1064_matches_nxp_svd() -> None:
    wheel = _download("pyocd")
    with zipfile.ZipFile(wheel) as outer:
        inner = zipfile.ZipFile(io.BytesIO(outer.read("pyocd/debug/svd/svd_data.zip")))
        svd = _svd_interrupts(inner.read("MIMXRT1064.xml"))
    assert len(svd) == 158
    assert _names("imxrt1064") == svd


@pytest.mark.parametrize(("board", "lines"), [
    # RM0433 Rev 8, Table 145 (STM32H743 vector table).
    ("stm32h743", {11: "DMA1_Stream0", 25: "TIM1_UP", 49: "SDMMC1", 77: "OTG_HS",
                   101: "OTG_FS", 125: "HSEM1", 137: "COMP", 142: "LPUART1",
                   149: "WAKEUP_PIN"}),
    # GD32VF103 User Manual Rev 1.2, Table 6-3 (ECLIC interrupt vector table).
    ("gd32vf103", {3: "CLIC_INT_SFT", 7: "CLIC_INT_TMR", 19: "WWDGT", 44: "TIMER0_UP",
                   56: "USART0", 86: "USBFS"}),
    # FE310-G002 manual: PLIC interrupt IDs.
    ("fe310", {1: "WATCHDOG", 3: "UART0", 8: "GPIO0", 39: "GPIO31", 40: "PWM0CMP0",
               52: "I2C0"}),
])
def test_lines_at_the_manuals_positions(board: str, lines: dict[int, str]) -> None:
    ours = _names(board)
    for number, name in lines.items():
        assert ours[number] == name


@pytest.mark.parametrize(("board", "named"), [
    ("stm32f407", 81), ("stm32h743", 139), ("imxrt1064", 158), ("gd32vf103", 64),
    ("fe310", 52)])
def test_every_line_named_once(board: str, named: int) -> None:
    profile = load_profile(board)
    names = [n for n, _ in profile.interrupts.names]
    assert len(names) == len(set(names)) == named


def test_vector_table_uses_the_start_up_files_handler_names() -> None:
    f4 = vector_entries(load_profile("stm32f407"))
    assert f4[15 + 25] == "TIM1_UP_TIM10_IRQHandler"   # CubeMX's HAL time base on TIM1
    assert f4[15 + 80] == "HASH_RNG_IRQHandler"        # startup_stm32f407xx.s, not RNG_
    assert f4[15 + 79] == "IRQ79_Handler"
    h7 = vector_entries(load_profile("stm32h743"))
    assert h7[15 + 137] == "COMP1_IRQHandler"
    gd = vector_entries(load_profile("gd32vf103"))
    assert (gd[7], gd[24], gd[60]) == ("eclic_mtip_handler", "RCU_IRQHandler",
                                       "RTC_Alarm_IRQHandler")
