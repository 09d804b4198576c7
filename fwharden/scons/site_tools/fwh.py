"""SCons tool module `fwh` (not `fwharden`: SCons registers a tool module in sys.modules
under its own name, which would hide the fwharden package), found through
`toolpath=[fwharden.scons.TOOLPATH]`."""

from fwharden.scons.tool import exists, generate

__all__ = ["exists", "generate"]
