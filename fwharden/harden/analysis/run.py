"""The verify stages in order, for the CLI, the SCons tool and other tools (one code path).

`verify_elf` loads what verify needs (the image, the .su files), runs it, and attaches
source lines to the findings. A caller that already holds the `Image` passes it, so a
build reads the ELF once.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from pathlib import Path

from fwharden.board_profiles import Profile, load_profile
from fwharden.harden.analysis.findings import Finding
from fwharden.harden.analysis.frames import load_stack_usage
from fwharden.harden.analysis.policy import HardenPolicy
from fwharden.harden.analysis.verify import VerifyResult, verify
from fwharden.harden.elf.image import Image, load_image
from fwharden.harden.elf.lines import LineTable


def su_files_in(directories: Iterable[Path | str]) -> list[Path]:
    """Every regular `*.su` file below the given directories (`verify --su-dir`): the user
    names the directories; nothing is searched that was not named."""
    return sorted({p for d in directories for p in Path(d).rglob("*.su") if p.is_file()})


def with_locations(result: VerifyResult, lines: LineTable) -> VerifyResult:
    """The result with file:line filled in for every finding that has a call site."""
    located: list[Finding] = []
    for finding in result.findings:
        where = lines.lookup(finding.site) if finding.site is not None else None
        located.append(dataclasses.replace(finding, file=where[0], line=where[1])
                       if where else finding)
    return dataclasses.replace(result, findings=tuple(located))


def verify_elf(elf: Path | str, profile: Profile | str | None = None,
               policy: HardenPolicy | None = None, su_files: Sequence[Path] = (), *,
               image: Image | None = None, cache: Path | str | None = None,
               stats: dict[str, int] | None = None) -> VerifyResult:
    """Load the ELF (unless `image` is given), check it, attach source lines to findings.

    profile: the board it was built for (a Profile, or a catalog board name), or None to
    check without one (frame sizes and priorities then come from the ELF alone).
    `su_files` are the `-fstack-usage` files of the build that linked `elf`, listed by
    whoever knows the build (the SCons tool: one per compiled object; the CLI: --su and
    --su-dir). Nothing else is read: a walk of the ELF's folder would pick up .su files of
    another build. A listed file that does not exist is skipped (an assembly source has
    none); without any, frames come from the disassembly.
    `cache`: a directory keeping each function's decode between runs (decode_cache.py);
    the result is identical with it, only faster after a small change. `stats`, when
    given, is filled with the cache's counts (functions decoded, reused).
    """
    elf = Path(elf)
    if isinstance(profile, str):
        profile = load_profile(profile)
    image = load_image(elf) if image is None else image
    usage = load_stack_usage(list(su_files))
    # An object's .su file sits beside it (gcc -fstack-usage writes x.su for x.o): those
    # objects' build attributes are checked too (isa_check.py).
    objects = [Path(su).with_suffix(".o") for su in su_files]
    decodes = None
    if cache is not None:
        from fwharden.harden.analysis.decode_cache import DecodeCache
        decodes = DecodeCache(Path(cache))
    result = verify(image, profile, policy or HardenPolicy(), usage, objects, decodes)
    if decodes is not None:
        decodes.save()
        if stats is not None:
            stats.update(decodes.stats)
    if result.findings:
        result = with_locations(result, LineTable.of(image))
    return result
