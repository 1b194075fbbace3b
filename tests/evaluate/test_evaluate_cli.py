from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from livesr.cli import app


def test_livesr_evaluate_writes_the_report(tmp_path: Path) -> None:
    out = tmp_path / "eval"
    result = CliRunner().invoke(
        app,
        [
            "evaluate", "--structures", "ccps", "--levels", "3,9", "--fields", "1",
            "--size", "48", "--methods", "wf,rl", "--out", str(out), "--no-plots",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert (out / "results.csv").is_file() and (out / "results.md").is_file()
    assert not (out / "panels_ccps.png").exists()  # --no-plots; plots: test_evaluate_sweep
    assert "| wf | rl |" in (out / "results.md").read_text()


def test_unknown_method_and_bad_levels_are_explained() -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["evaluate", "--methods", "dfcan"])
    assert result.exit_code != 0
    assert "--model" in result.output
    result = runner.invoke(app, ["evaluate", "--levels", "one"])
    assert result.exit_code != 0
    assert "1-9" in result.output
