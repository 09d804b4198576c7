"""Everything after the link: the ELF image, memory use, the interrupt-safety proof, reports.

The typed public API another tool uses::

    from fwharden.harden import verify_elf, to_json
    result = verify_elf("build/mps2-an386/firmware.elf", "mps2-an386")
    print(result.verdict, result.isr_stack.worst_case.describe())

Names are loaded on first use (PEP 562): the board_profiles package imports
`fwharden.harden.analysis.policy`, and SCons reads it on every run, so importing this
package must not pull in pyelftools and capstone. Nothing here reads TOML or prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fwharden.lazy import lazy_attributes

if TYPE_CHECKING:
    from .analysis.bounds import Bound, BoundKind
    from .analysis.findings import Finding
    from .analysis.policy import FailOn, HardenPolicy, Severity, should_fail
    from .analysis.roots import RootKind, VectorTable
    from .analysis.run import verify_elf
    from .analysis.stacks import InterruptReport, PathStep, StackCheck, StackLevel
    from .analysis.verify import Verdict, VerifyResult, verify
    from .elf.image import Family, Image, load_image
    from .errors import HardenError
    from .faults.stackmap import StackEntry, StackMap, parse_stackmap
    from .report.json import to_json
    from .report.sarif import to_sarif
    from .report.usage import (
        RegionUsage,
        describe_usage,
        outside_regions,
        placed_sections,
        region_usage,
    )

_HOMES = {
    "Bound": "analysis.bounds", "BoundKind": "analysis.bounds",
    "Finding": "analysis.findings",
    "FailOn": "analysis.policy", "HardenPolicy": "analysis.policy",
    "Severity": "analysis.policy", "should_fail": "analysis.policy",
    "RootKind": "analysis.roots", "VectorTable": "analysis.roots",
    "verify_elf": "analysis.run",
    "InterruptReport": "analysis.stacks", "PathStep": "analysis.stacks",
    "StackCheck": "analysis.stacks", "StackLevel": "analysis.stacks",
    "Verdict": "analysis.verify", "VerifyResult": "analysis.verify", "verify": "analysis.verify",
    "Family": "elf.image", "Image": "elf.image", "load_image": "elf.image",
    "HardenError": "errors",
    "StackEntry": "faults.stackmap", "StackMap": "faults.stackmap",
    "parse_stackmap": "faults.stackmap",
    "to_json": "report.json", "to_sarif": "report.sarif",
    "RegionUsage": "report.usage", "describe_usage": "report.usage",
    "outside_regions": "report.usage", "placed_sections": "report.usage",
    "region_usage": "report.usage",
}
__all__ = [
    "Bound",
    "BoundKind",
    "FailOn",
    "Family",
    "Finding",
    "HardenError",
    "HardenPolicy",
    "Image",
    "InterruptReport",
    "PathStep",
    "RegionUsage",
    "RootKind",
    "Severity",
    "StackCheck",
    "StackEntry",
    "StackLevel",
    "StackMap",
    "VectorTable",
    "Verdict",
    "VerifyResult",
    "describe_usage",
    "load_image",
    "outside_regions",
    "parse_stackmap",
    "placed_sections",
    "region_usage",
    "should_fail",
    "to_json",
    "to_sarif",
    "verify",
    "verify_elf",
]


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES, __all__)
