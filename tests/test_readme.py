"""The README's quick commands run as written (in a fresh folder, in order)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Commands that take more than a few seconds, with those that need their output.
SLOW = ("demo", "preview")


def quick_commands() -> list[str]:
    """The `livesr` lines of the README's "Quick commands" block, comments stripped."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"Quick commands.*?```bash\n(.*?)```", text, re.S)
    assert block is not None, "README.md lost its 'Quick commands' block"
    lines = [line.split("#", 1)[0].strip() for line in block.group(1).splitlines()]
    return [line for line in lines if line]


def _run(commands: list[str], cwd: Path) -> None:
    env = {
        **os.environ,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
    }
    for command in commands:
        run = subprocess.run(
            shlex.split(command), cwd=cwd, env=env, capture_output=True, text=True, timeout=300
        )
        assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"


def test_readme_lists_the_quick_commands() -> None:
    commands = quick_commands()
    assert all(c.startswith("livesr ") for c in commands), commands
    assert {c.split()[1] for c in commands} >= {"demo", "preview", "simulate", "reconstruct"}


def test_quick_commands_run_as_written(tmp_path: Path) -> None:
    _run([c for c in quick_commands() if c.split()[1] not in SLOW], tmp_path)
    assert (tmp_path / "sample" / "raw_auto.tif").is_file()


@pytest.mark.slow
def test_slow_quick_commands_run_as_written(tmp_path: Path) -> None:
    _run([c for c in quick_commands() if c.split()[1] in SLOW], tmp_path)
    assert (tmp_path / "demo_run.preview" / "latest.png").is_file()


@pytest.mark.slow
def test_readme_python_example_runs_as_written(tmp_path: Path) -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"From Python.*?```python\n(.*?)```", text, re.S)
    assert block is not None, "README.md lost its Python example"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    run = subprocess.run(
        [sys.executable, "-c", block.group(1)], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "status: finished" in run.stdout
