"""Board profiles: the catalog loads, and every invalid profile fails with one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ALL_BOARDS, DATA, fwharden

from fwharden.board_profiles import ProfileError, list_boards, load_profile
from fwharden.cli import main

INVALID = sorted((DATA / "profiles").glob("invalid_*.toml"))


def test_catalog_has_the_required_boards() -> None:
    assert set(ALL_BOARDS) <= set(list_boards())


@pytest.mark.parametrize("board", ALL_BOARDS)
def test_catalog_board_loads(board: str) -> None:
    profile = load_profile(board)
    assert profile.name == board
    assert profile.memory, "every board has memory regions"
    region = profile.region(profile.stacks.region)
    assert region.writable


def test_stm32h743_matches_rm0433() -> None:
    p = load_profile("stm32h743")
    regions = {r.name: (r.origin, r.length) for r in p.memory}
    assert regions["flash"] == (0x08000000, 2 << 20)
    assert regions["itcm"] == (0x00000000, 64 << 10)
    assert regions["dtcm"] == (0x20000000, 128 << 10)
    assert regions["axi_sram"] == (0x24000000, 512 << 10)
    assert {"sram1", "sram2", "sram3", "sram4"} <= set(regions)
    assert p.stacks.region == "dtcm"
    assert (p.cpu.core, p.cpu.fpu, p.cpu.float_abi) == ("cortex-m7", "fpv5-d16", "hard")
    assert p.inherits == ("stm32h7",)
    assert p.interrupts.irq_count == 150


def test_qemu_boards_name_their_machine() -> None:
    machines = {b: load_profile(b).qemu.machine for b in ("mps2-an386", "mps2-an500", "sifive-e")}
    assert machines == {"mps2-an386": "mps2-an386", "mps2-an500": "mps2-an500",
                        "sifive-e": "sifive_e"}
    assert load_profile("stm32h743").qemu is None


def test_fpu_cores_need_guards_of_at_least_the_fp_frame() -> None:
    for board in ALL_BOARDS:
        p = load_profile(board)
        assert p.stacks.guard_size >= p.cpu.exception_frame


def test_valid_base_profile_loads() -> None:
    profile = load_profile(str(DATA / "profiles" / "valid_base.toml"))
    assert profile.name == "test"
    assert profile.stacks.guard_size == 128  # inherited from the stm32h7 family


def _expectation(path: Path) -> tuple[str, str]:
    first = path.read_bytes().decode("utf-8", "replace").splitlines()[0]
    assert first.startswith("# expect:"), f"{path.name} must start with '# expect: key | text'"
    key, text = first[len("# expect:"):].split("|", 1)
    return key.strip(), text.strip()


@pytest.mark.parametrize("path", INVALID, ids=[p.stem for p in INVALID])
def test_invalid_profile_is_one_line_naming_file_and_key(
        path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key, text = _expectation(path)
    with pytest.raises(ProfileError) as info:
        load_profile(str(path))
    assert info.value.key == key
    assert text in info.value.problem
    assert info.value.fix

    status = main(["board", "show", str(path)])
    err = capsys.readouterr().err
    assert status == 2
    assert err.count("\n") == 1, err
    assert str(path) in err and text in err and "fix:" in err
    if key:
        assert f": {key}: " in err


def test_invalid_profile_through_the_console_script() -> None:
    path = DATA / "profiles" / "invalid_overlapping_regions.toml"
    result = fwharden("board", "show", str(path))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1
    assert "memory.ram2: overlaps memory.ram" in result.stderr
