"""firmware.toml: settings, per-board overrides, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from fwharden.board_profiles import ProjectError, load_profile
from fwharden.board_profiles.project import apply_stack_overrides, load_project

GOOD = """\
schema_version = 1
[project]
name = "p"
board = "stm32h743"
sources = ["src/*.c"]
defines = ["A=1"]
[stacks]
isr_size = "8K"
[boards.fe310]
defines = ["B=2"]
[boards.fe310.stacks]
isr_size = "2K"
layout = "flip"
[harden]
fail_on = "warning"
[harden.allow]
puts = "debug build only"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "firmware.toml"
    path.write_text(text)
    return path


def test_per_board_settings_extend_the_common_ones(tmp_path: Path) -> None:
    project = load_project(_write(tmp_path, GOOD))
    build, stacks = project.settings_for("fe310")
    assert build.defines == ("A=1", "B=2")
    assert (stacks.isr_size, stacks.layout) == (2048, "flip")
    build, stacks = project.settings_for("stm32h743")
    assert build.defines == ("A=1",) and stacks.isr_size == 8192
    assert project.harden.fail_on == "warning"
    assert project.harden.allow == (("puts", "debug build only"),)
    profile = apply_stack_overrides(load_profile("stm32h743"), stacks, project.path)
    assert profile.stacks.isr_size == 8192


@pytest.mark.parametrize(("change", "key", "words"), [
    (("schema_version = 1", "schema_version = 7"), "schema_version", "not supported"),
    (('board = "stm32h743"', 'board = "stm32h743"\ncolour = "red"'), "project.colour",
     "unknown key"),
    (('sources = ["src/*.c"]', 'sources = "src/*.c"'), "project.sources", "list of str"),
    (('sources = ["src/*.c"]', 'sources = ["../other/*.c"]'), "project.sources",
     "leaves the project"),
    (('layout = "flip"', 'layout = "sideways"'), "boards.fe310.stacks.layout", "not supported"),
    (('name = "p"\n', ''), "project.name", "missing"),
])
def test_invalid_project_is_one_line(tmp_path: Path, change: tuple[str, str], key: str,
                                     words: str) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ProjectError) as info:
        load_project(path)
    assert info.value.key == key and words in info.value.problem
    assert str(info.value).startswith(f"{path}: {key}: ") and "; fix: " in str(info.value)


def test_stack_override_breaking_a_board_rule_names_firmware_toml(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace('isr_size = "8K"', 'isr_size = "8K"\nguard_size = 64'))
    project = load_project(path)
    _, stacks = project.settings_for("stm32h743")
    with pytest.raises(ProjectError) as info:
        apply_stack_overrides(load_profile("stm32h743"), stacks, project.path)
    assert info.value.path == path and info.value.key == "stacks.guard_size"
    assert "FP exception frame" in info.value.problem
