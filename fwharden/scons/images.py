"""Boot images beside firmware.bin/.hex: the RP2040 boot2 (compiled into the firmware)
and the files a chip's boot ROM takes (firmware.uf2). The writers are plain functions in
fwharden.image and fwharden.flash.uf2; this file only declares the SCons targets and turns
their errors into one line and a failed build."""

from __future__ import annotations

import sys
from pathlib import Path

from SCons.Action import Action

from fwharden.atomic import write_atomically
from fwharden.board_profiles import Profile
from fwharden.flash.errors import FlashError
from fwharden.linker.script import HEADER_LINE
from fwharden.runtime import boot2_source


def write_boot2_c(target, source, env) -> int:
    """SCons action: the assembled boot2 object -> fwh_boot2.c (padded, CRC appended)."""
    # The ELF readers are imported by the actions that run, not when SConstruct reads
    # this tool: a no-op rebuild never needs them (issue 19).
    from fwharden.image.boot2 import Boot2Error, boot2_block, code_from_object, render_boot2_c
    try:
        block = boot2_block(code_from_object(Path(str(source[0]))))
    except Boot2Error as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return 2
    write_atomically(Path(str(target[0])), render_boot2_c(block, HEADER_LINE))
    return 0


def write_uf2(target, source, env) -> int:
    """SCons action: firmware.elf -> firmware.uf2 (one block per 256-byte flash page)."""
    from fwharden.flash.uf2 import loadable_bytes, to_uf2
    try:
        data = to_uf2(loadable_bytes(Path(str(source[0]))), env["FWH_UF2_FAMILY"])
    except FlashError as exc:
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return 2
    write_atomically(Path(str(target[0])), data)
    return 0


def boot2_objects(env, profile: Profile, rel_build: str) -> list:
    """Objects holding the profile's boot2 (none without placement.boot2): its assembly
    is assembled on its own, then wrapped into a C array with its CRC."""
    if not profile.placement.boot2:
        return []
    code = env.Object(f"{rel_build}/obj/fwharden/boot2_code.o",
                      str(boot2_source(profile.placement.boot2)))
    wrapped = env.Command(f"{rel_build}/gen/fwh_boot2.c", code,
                          Action(write_boot2_c, "Boot2 $TARGET"))
    return env.Object(f"{rel_build}/obj/gen/fwh_boot2.o", wrapped)


def image_artifacts(env, profile: Profile, elf, rel_build: str) -> list:
    """The boot-ROM images the board takes beside .bin/.hex: firmware.uf2 for a board
    with a [flash.uf2] table (its family id)."""
    nodes = []
    if profile.flash is not None and profile.flash.uf2 is not None:
        nodes += env.Command(f"{rel_build}/firmware.uf2", elf, Action(write_uf2, "UF2 $TARGET"),
                             FWH_UF2_FAMILY=profile.flash.uf2.family)
    return nodes


def write_esp_image(target, source, env) -> int:
    """SCons action: firmware.elf -> firmware.bin as Espressif's app image (via a
    temporary name, so a failed esptool run leaves no firmware.bin)."""
    from fwharden.image.esp import EspImageError, write_app_image
    out = Path(str(target[0]))
    temporary = out.with_name(out.name + ".tmp")
    try:
        write_app_image(env["FWH_ESP_CHIP"], Path(str(source[0])), temporary)
    except EspImageError as exc:
        temporary.unlink(missing_ok=True)
        print(f"fwharden: error: {exc}", file=sys.stderr)
        return 2
    temporary.replace(out)
    return 0


def app_image(env, profile: Profile, elf, rel_build: str) -> list | None:
    """firmware.bin as the app image the chip's bootloader loads (a board whose flash tool
    is esptool), or None: then firmware.bin is the plain objcopy binary."""
    flash = profile.flash
    if flash is None or flash.tool != "esptool" or flash.esptool is None:
        return None
    return env.Command(f"{rel_build}/firmware.bin", elf,
                       Action(write_esp_image, "ESP app image $TARGET"),
                       FWH_ESP_CHIP=flash.esptool.chip)
