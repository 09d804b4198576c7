"""examples/ci/: the GitHub Actions workflow passes actionlint and the GitLab pipeline's
plan step, run for real on `fwharden boards --json`, writes one job per board; every
fwharden and scons command line in them parses with the real CLI."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

from fwharden.board_profiles import list_boards
from fwharden.cli import build_parser

CI = Path(__file__).resolve().parents[2] / "examples" / "ci"


def _fwharden_commands(text: str) -> list[list[str]]:
    """Each `fwharden ...` command line in a script, with ${{ }} and $VARS as words."""
    out = []
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    joined = code.replace("\\\n", " ")
    for match in re.finditer(r"\bfwharden ([a-z-]+[^|>&\n]*)", joined):
        words = shlex.split(re.sub(r"\$\{\{[^}]*\}\}", "X", match[1]))
        out.append([w for w in words if w != "||"])
    return out


def test_github_workflow_passes_actionlint() -> None:
    exe = shutil.which("actionlint") or str(Path(sys.executable).parent / "actionlint")
    result = subprocess.run([exe, "-no-color", str(CI / "github-actions.yml")],
                            capture_output=True, text=True, check=False, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_github_workflow_builds_every_board_uploads_sarif_and_posts_the_diff() -> None:
    text = (CI / "github-actions.yml").read_text()
    flow = yaml.safe_load(text)
    jobs = flow["jobs"]
    assert "fwharden boards --json" in jobs["boards"]["steps"][-1]["run"]
    assert jobs["build"]["strategy"]["matrix"]["board"] == \
        "${{ fromJSON(needs.boards.outputs.boards) }}"
    steps = {s.get("name", s.get("uses", "")): s for s in jobs["build"]["steps"]}
    assert steps["Upload SARIF"]["uses"].startswith("github/codeql-action/upload-sarif@")
    assert steps["Upload SARIF"]["with"]["sarif_file"] == \
        "build/${{ matrix.board }}/findings.sarif"
    assert "--markdown" in steps["Post the diff"]["run"]
    assert jobs["build"]["permissions"]["security-events"] == "write"
    commands = _fwharden_commands(text)
    assert {c[0] for c in commands} >= {"boards", "diff"}
    for words in commands:
        build_parser().parse_args(words)  # SystemExit (a failed test) on a wrong option


def test_gitlab_plan_writes_one_job_per_board(tmp_path: Path) -> None:
    text = (CI / "gitlab-ci.yml").read_text()
    pipeline = yaml.safe_load(text)
    assert pipeline["boards"]["trigger"]["include"][0] == {"artifact": "pipeline.yml",
                                                          "job": "plan"}
    plan = pipeline["plan"]["script"]
    exe = Path(sys.executable).parent / "fwharden"
    boards = subprocess.run([str(exe), "boards", "--json"], capture_output=True, text=True,
                            check=True).stdout
    (tmp_path / "boards.json").write_text(boards)
    python = next(s for s in plan if s.startswith("python3 - <<'PY'"))
    body = textwrap.dedent(python.split("\n", 1)[1].rsplit("PY", 1)[0])
    subprocess.run([sys.executable, "-c", body], cwd=tmp_path, check=True, timeout=60)
    child = yaml.safe_load((tmp_path / "pipeline.yml").read_text())
    jobs = {k: v for k, v in child.items() if k.startswith("build-")}
    assert sorted(v["variables"]["BOARD"] for v in jobs.values()) == sorted(list_boards())
    assert json.loads(boards)  # the catalog is not empty
    for job in jobs.values():
        assert job["artifacts"]["when"] == "always"
        assert job["script"][0] == 'scons "board=$BOARD"'
        for words in _fwharden_commands("\n".join(job["script"])):
            build_parser().parse_args(words)
