"""firmware.toml [harden] becomes the analysis layer's HardenPolicy; bad values are one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwharden.board_profiles import ProjectError
from fwharden.board_profiles.project import load_project
from fwharden.harden import HardenPolicy
from fwharden.harden.analysis import policy as policy_module

HEAD = 'schema_version = 1\n[project]\nname = "p"\nboard = "stm32h743"\nsources = ["src/*.c"]\n'


def _load(tmp_path: Path, harden: str):
    path = tmp_path / "firmware.toml"
    path.write_text(HEAD + harden)
    return load_project(path)


def test_harden_table_is_the_analysis_type(tmp_path: Path) -> None:
    project = _load(tmp_path, '[harden]\nfail_on = "never"\nnesting_levels = 2\n'
                              '[harden.priorities]\nTIM2_IRQHandler = 1\n'
                              '[harden.indirect]\ndispatch = ["on_rx", "on_tx"]\n'
                              '[harden.severity]\ndynamic-stack = "error"\n')
    policy = project.harden
    assert type(policy) is policy_module.HardenPolicy is HardenPolicy
    assert policy == HardenPolicy(fail_on="never", nesting_levels=2,
                                  priorities=(("TIM2_IRQHandler", 1),),
                                  indirect=(("dispatch", ("on_rx", "on_tx")),),
                                  severity=(("dynamic-stack", "error"),))


def test_default_policy(tmp_path: Path) -> None:
    assert _load(tmp_path, "").harden == HardenPolicy()
    assert HardenPolicy().fail_on == "error"


@pytest.mark.parametrize(("harden", "key"), [
    ('[harden]\nfail_on = "sometimes"\n', "harden.fail_on"),
    ('[harden.severity]\nheap = "fatal"\n', "harden.severity.heap"),
    ('[harden]\nnesting_levels = 0\n', "harden.nesting_levels"),
    ('[harden.forbid]\nflash_erase = " "\n', "harden.forbid.flash_erase"),
    ('[harden.indirect]\n"0xZZ" = ["f"]\n', "harden.indirect.0xZZ"),
])
def test_bad_harden_values_name_the_key(tmp_path: Path, harden: str, key: str) -> None:
    with pytest.raises(ProjectError) as info:
        _load(tmp_path, harden)
    assert info.value.key == key and "\n" not in str(info.value)
