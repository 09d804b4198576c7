"""The verify stages in order, for the CLI and the SCons tool (one code path for both)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from fwharden.board_profiles import Profile
from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.frames import load_stack_usage
from fwharden.harden.analysis.verify import VerifyResult, verify
from fwharden.harden.elf.image import load_image
from fwharden.harden.elf.lines import load_lines
from fwharden.harden.report.text import with_locations


def su_files_in(directories: Iterable[Path | str]) -> list[Path]:
    """Every regular `*.su` file below the given directories (`verify --su-dir`): the user
    names the directories; nothing is searched that was not named."""
    return sorted({p for d in directories for p in Path(d).rglob("*.su") if p.is_file()})


def verify_elf(elf: Path, profile: Profile | None, policy: HardenPolicy,
               su_files: Sequence[Path] = ()) -> VerifyResult:
    """Load the ELF, check it, and attach source lines to the findings.

    `su_files` are the `-fstack-usage` files of the build that linked `elf`, listed by
    whoever knows the build (the SCons tool: one per compiled object; the CLI: --su and
    --su-dir). Nothing else is read: a walk of the ELF's folder would pick up .su files of
    another build. A listed file that does not exist is skipped (an assembly source has
    none); without any, frames come from the disassembly."""
    image = load_image(elf)
    usage = load_stack_usage(list(su_files))
    result = verify(image, profile, policy, usage)
    if result.findings:
        result = with_locations(result, load_lines(elf))
    return result
