"""Every finding gets a physical location, also those with no call site (locations.py)."""

from __future__ import annotations

from pathlib import Path

from fwharden.harden.analysis.verify import Finding
from fwharden.harden.report.locations import Place, Project, artifact_uri, place_of


def _finding(rule: str, root: str = "-", path: tuple[str, ...] = ()) -> Finding:
    return Finding(rule=rule, severity="error", title=rule, reason="", root=root, path=path,
                   callee="-", site=None, message=rule)


def _project(tmp_path: Path) -> Project:
    script = tmp_path / "build" / "b" / "b.ld"
    script.parent.mkdir(parents=True)
    script.write_text("/* x */\n  .fwh_stacks :\n  {\n    __fwh_thread_stack_start = .;\n"
                      "    __fwh_isr_stack_start = .;\n")
    config = tmp_path / "firmware.toml"
    config.write_text("[project]\nname = 'x'\n\n[harden]\nfail_on = 'error'\n")
    return Project(root=tmp_path, elf=tmp_path / "build" / "b" / "firmware.elf",
                   linker_script=script, config=config,
                   function_lines={"IRQ_Handler": Place("src/irq.c", 12)})


def test_stacks_point_at_their_definition(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert place_of(_finding("isr-stack-overflow"), project).line == 5
    assert place_of(_finding("thread-stack-overflow"), project).line == 4


def test_handler_findings_point_at_the_handler(tmp_path: Path) -> None:
    project = _project(tmp_path)
    where = place_of(_finding("stack-unproven", "IRQ_Handler", ("IRQ_Handler",)), project)
    assert where == Place("src/irq.c", 12)


def test_config_and_whole_firmware_findings(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert place_of(_finding("unused-setting"), project) == Place(str(project.config), 4)
    assert place_of(_finding("roots"), project) == Place(str(project.linker_script), 1)
    bare = Project(root=tmp_path, elf=tmp_path / "fw.elf")
    assert place_of(_finding("undecodable"), bare) == Place(str(tmp_path / "fw.elf"), 1)


def test_uris_relative_to_the_root(tmp_path: Path) -> None:
    assert artifact_uri(str(tmp_path / "src" / "a.c"), tmp_path) == "src/a.c"
    assert artifact_uri("./src/a.c", tmp_path) == "src/a.c"
    assert artifact_uri("/usr/include/x.h", tmp_path) == "file:///usr/include/x.h"
