"""The verify stages in order, for the CLI and the SCons tool (one code path for both)."""

from __future__ import annotations

from pathlib import Path

from fwharden.board_profiles import Profile
from fwharden.board_profiles.project import HardenPolicy
from fwharden.harden.analysis.frames import load_stack_usage
from fwharden.harden.analysis.verify import VerifyResult, verify
from fwharden.harden.elf.image import load_image
from fwharden.harden.elf.lines import load_lines
from fwharden.harden.report.text import with_locations


def stack_usage_files(elf: Path, extra: list[Path] | None = None) -> list[Path]:
    """The .su files next to the ELF (the build writes them under its obj/ directory)."""
    roots = [elf.parent, *(extra or [])]
    return sorted({p for root in roots for p in root.rglob("*.su")})


def verify_elf(elf: Path, profile: Profile | None, policy: HardenPolicy,
               su_files: list[Path] | None = None) -> VerifyResult:
    """Load the ELF, check it, and attach source lines to the findings."""
    image = load_image(elf)
    usage = load_stack_usage(stack_usage_files(elf) if su_files is None else su_files)
    result = verify(image, profile, policy, usage)
    if result.findings:
        result = with_locations(result, load_lines(elf))
    return result
