"""Bring existing projects to fwharden: Makefile (STM32CubeMX, hand-written) -> firmware.toml.

Reads files and returns text; the CLI writes it. May import board_profiles only.
"""
