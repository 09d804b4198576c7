"""The SCons tool's command-line words and name checks, without a compiler: what SCons
hands the shell for a user string, and which names are refused (issue 20)."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from SCons.Environment import Environment
from SCons.Subst import SUBST_CMD, SUBST_SIG

from fwharden.board_profiles import ConfigError
from fwharden.scons.cmdline import ESCAPE, check_defines, check_file_name, check_words, literal
from fwharden.scons.variables import ARGUMENTS, fwharden_variables, is_true

HOSTILE = ['GREETING="hello world"', 'X=`touch /tmp/x`', 'Y="$(id) $HOME ${HOME} $$"',
           "Z='single' \\back"]


def _argv(words: list[str]) -> list[str]:
    """What the shell would run: SCons's substitution, SCons's escaping with $ESCAPE, then
    the shell's own word splitting (shlex, which runs nothing)."""
    env = Environment(tools=[], ESCAPE=ESCAPE, WORDS=literal(words))
    line = env.subst_list("cc $WORDS", SUBST_CMD)[0]
    escaped = [arg.escape(ESCAPE) if hasattr(arg, "escape") else str(arg) for arg in line]
    return shlex.split(" ".join(escaped))


def test_user_words_reach_the_program_exactly() -> None:
    assert _argv([f"-D{d}" for d in HOSTILE]) == ["cc", *(f"-D{d}" for d in HOSTILE)]


def test_signature_keeps_markers_as_characters() -> None:
    env = Environment(tools=[], WORDS=literal(['-DA="$(date)"', "-DB=$)"]))
    assert env.subst("cc $WORDS", SUBST_SIG) == 'cc -DA="$(date)" -DB=$)'


@pytest.mark.parametrize("define", ["A", "A=1", "A_b9=x y", "F(x,y)=x+y", "V(...)=1", "_=0"])
def test_valid_define_names(define: str) -> None:
    check_defines(Path("firmware.toml"), "defines", [define])


@pytest.mark.parametrize("define", ["", "1A=2", "A B=1", "A-B", "F(x=1", "Ä=1", "A;rm=1"])
def test_invalid_define_names_name_the_key(define: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_defines(Path("firmware.toml"), "defines", [define])
    assert str(info.value).startswith("firmware.toml: defines: ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("name", ["../x", "a/b", ".hidden", "", "a b", "x`y`"])
def test_names_that_cannot_be_file_names(name: str) -> None:
    with pytest.raises(ConfigError, match="project.name"):
        check_file_name(Path("firmware.toml"), "project.name", name)


def test_control_characters_are_refused() -> None:
    with pytest.raises(ConfigError, match="cflags"):
        check_words(Path("firmware.toml"), "cflags", ["-O2\n-DX"])


def test_every_argument_is_a_variable_with_help() -> None:
    env = Environment(tools=[])
    variables = fwharden_variables({"board": "stm32h743", "VERBOSE": "1", "bord": "x"})
    variables.Update(env)
    assert env["FWH_BOARD"] == "stm32h743" and is_true(env["FWH_VERBOSE"])
    assert env["FWH_RUN_TIMEOUT"] == "30"
    assert list(variables.UnknownVariables()) == ["bord"]
    text = variables.GenerateHelpText(env)
    for arg in ARGUMENTS:
        assert f"{arg.name}={arg.metavar}" in text and arg.help in text
