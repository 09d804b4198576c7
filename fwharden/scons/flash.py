"""The `flash`, `debug` and `gdbinit` targets of the SCons tool: aliases whose actions call
fwharden.flash. Like `run`, a failure is one line and the process exits with the tool's
status once SCons has saved its state (SCons would add its own "Error" line)."""

from __future__ import annotations

import atexit
import sys
from pathlib import Path

from SCons.Action import Action

from fwharden.board_profiles import ConfigError, Profile
from fwharden.scons.actions import exit_with


def _fail(exc: Exception) -> int:
    print(f"fwharden: error: {exc}", file=sys.stderr)
    atexit.register(exit_with, getattr(exc, "status", 2))
    return 0


def flash_action(target, source, env) -> int:
    from fwharden.flash import FlashError
    from fwharden.flash.run import describe_flash, flash_firmware
    profile: Profile = env["FWH_PROFILE"]
    elf = Path(str(source[0]))
    args = env["FWH_ARGS"]
    try:
        result = flash_firmware(profile, elf, args.get("flash_tool"), args.get("port"))
    except (FlashError, ConfigError) as exc:
        return _fail(exc)
    print(describe_flash(result, elf, profile.name), end="")
    return 0


def debug_action(target, source, env) -> int:
    from fwharden.flash import FlashError
    from fwharden.flash.debug import debug_session
    profile: Profile = env["FWH_PROFILE"]
    port = env["FWH_ARGS"].get("gdb_port")
    try:
        status = debug_session(profile, Path(str(source[0])), port=int(port) if port else None)
    except (FlashError, ConfigError, ValueError) as exc:
        return _fail(exc)
    if status != 0:
        atexit.register(exit_with, status)
    return 0


def gdbinit_action(target, source, env) -> int:
    from fwharden.flash import FlashError
    from fwharden.flash.gdbinit import write_debug_files
    try:
        files = write_debug_files(env["FWH_PROFILE"], Path(str(source[0])))
    except FlashError as exc:
        return _fail(exc)
    for path in (files.gdbinit, files.launch_json):
        if path is not None:
            print(f"wrote {path}")
    return 0


def declare(env, profile: Profile, elf, manifest) -> None:
    """`scons flash` (after the manifest: the verify gate reads it), `scons debug`,
    `scons gdbinit`."""
    for name, action, text in (("flash", flash_action, "Flash $SOURCE"),
                               ("debug", debug_action, "Debug $SOURCE"),
                               ("gdbinit", gdbinit_action, "gdbinit for $SOURCE")):
        alias = env.Alias(name, elf, Action(action, text), FWH_PROFILE=profile)
        env.Depends(alias, manifest)
        env.AlwaysBuild(alias)
