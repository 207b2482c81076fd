"""The repository passes its own pre-commit hooks: lint, format, and hooks that fetch nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from afterkarabakh.paths import ROOT

RUFF = Path(sys.executable).with_name("ruff")


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_lint_passes():
    result = _run(str(RUFF), "check", "--no-fix", "--output-format", "concise", ".")
    assert result.returncode == 0, (
        "ruff finds problems (fix: .venv/bin/ruff check --fix .):\n" + result.stdout
    )


def test_ruff_format_leaves_nothing_to_change():
    result = _run(str(RUFF), "format", "--check", ".")
    assert result.returncode == 0, (
        "files need formatting (fix: .venv/bin/ruff format .):\n" + result.stdout
    )


def test_pre_commit_hooks_are_local_and_use_the_project_environment():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    remote = [repo["repo"] for repo in config["repos"] if repo["repo"] != "local"]
    assert not remote, f".pre-commit-config.yaml fetches hooks from {remote}: use repo: local"
    for hook in config["repos"][0]["hooks"]:
        executable = ROOT / hook["entry"].split()[0]
        assert executable.exists(), (
            f"hook {hook['id']}: {executable} is not in the environment (requirements.txt)"
        )
    result = _run(sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
