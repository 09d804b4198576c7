"""The SCons tool: `Environment(tools=["fwh"], toolpath=[TOOLPATH])`.

A project's whole SConstruct is three lines:

    import fwharden.scons
    env = Environment(tools=["fwh"], toolpath=[fwharden.scons.TOOLPATH], FWH_ARGS=ARGUMENTS)
    env.Firmware("firmware.toml")
"""

from pathlib import Path

TOOLPATH = str(Path(__file__).resolve().parent / "site_tools")

__all__ = ["TOOLPATH"]
