from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from livesr.cli import app
from livesr.io import open_store

runner = CliRunner()


def test_demo_writes_a_complete_two_colour_store(tmp_path: Path) -> None:
    out = tmp_path / "demo.zarr"
    # 128 px: Wiener SIM needs a field large enough to find the pattern's carrier peaks.
    args = ["demo", "--timepoints", "2", "--size", "128", "--backend", "wiener", "--out", str(out)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "status: finished" in result.output and "4/4 stacks" in result.output
    assert f"look at it: livesr preview {out}" in result.output
    store = open_store(out)
    assert store.channels == ("488", "561")
    assert store.raw.shape == (2, 2, 9, 1, 128, 128)
    assert store.sr_done().all() and store.raw_done().all()
    again = runner.invoke(app, args)
    assert again.exit_code != 0 and "already exists" in again.output
    # The preview of the finished run states its live SR rate as the summary does, in the
    # printed line and in status.json alike.
    shown = runner.invoke(app, ["preview", str(out), "--headless", "--once"])
    assert shown.exit_code == 0, shown.output
    status = json.loads((tmp_path / "demo.preview" / "status.json").read_text())
    fps = store.info["summary"]["sr_fps"]
    assert status["sr_fps"] == round(fps, 3)
    assert f"SR {fps:.1f} fps" in shown.output


def test_demo_runs_a_wide_field_model_on_the_stack_mean(tmp_path: Path) -> None:
    out = tmp_path / "sisr.zarr"
    args = [
        "demo",
        "--timepoints",
        "1",
        "--size",
        "64",
        "--model",
        "dfcan-sisr",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    store = open_store(out)
    assert {s.model for s in store.reconstructor_specs().values()} == {"dfcan-sisr"}
    assert store.sr_done().all()
    assert store.sr.shape[-2:] == (128, 128)


def _write_sequence(path: Path, channels: list[str]) -> Path:
    seq = {"channels": [{"config": c} for c in channels], "time_plan": {"interval": 0, "loops": 2}}
    path.write_text(yaml.safe_dump(seq))
    return path


def test_acquire_runs_a_sequence_file_on_a_cfg(tmp_path: Path) -> None:
    cfg = Path(__file__).resolve().parents[2] / "hardware_configs" / "demo_sim.cfg"
    seq = _write_sequence(tmp_path / "seq.yaml", ["561"])
    out = tmp_path / "run.zarr"
    result = runner.invoke(
        app,
        ["acquire", "--config", str(cfg), "--sequence", str(seq), "--out", str(out),
         "--model", "561=wiener"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    store = open_store(out)
    assert store.channels == ("561",) and store.sr_done().all()
    assert store.reconstructor_specs()["561"].backend == "wiener"


@pytest.mark.parametrize(
    ("channels", "extra", "message"),
    [
        (["488", "640"], [], "not presets of the config group"),
        (["488"], ["--model", "561=wiener"], "not in the sequence's channels"),
        ([], [], "no channels"),
    ],
)
def test_acquire_rejects_bad_input_before_acquiring(
    tmp_path: Path, channels: list[str], extra: list[str], message: str
) -> None:
    seq = _write_sequence(tmp_path / "seq.yaml", channels)
    out = tmp_path / "run.zarr"
    result = runner.invoke(
        app,
        ["acquire", "--config", "demo", "--sequence", str(seq), "--out", str(out),
         "--backend", "wiener", *extra],
    )  # fmt: skip
    assert result.exit_code != 0
    assert message in " ".join(result.output.split())
    assert not out.exists()


def test_acquire_reports_a_cfg_that_does_not_load(tmp_path: Path) -> None:
    cfg = tmp_path / "rig.cfg"
    cfg.write_text("Device,Camera,HamamatsuHam,HamamatsuHam_DCAM\n")
    seq = _write_sequence(tmp_path / "seq.yaml", ["488"])
    result = runner.invoke(
        app,
        ["acquire", "--config", str(cfg), "--sequence", str(seq), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 2
    assert "could not load microscope config" in " ".join(result.output.split())


def test_acquire_takes_a_pipeline_config(tmp_path: Path) -> None:
    from livesr.config import PipelineConfig, WriterConfig

    config = tmp_path / "pipeline.yaml"
    PipelineConfig(max_backlog=2, writer=WriterConfig(compression="none")).to_yaml(config)
    seq = _write_sequence(tmp_path / "seq.yaml", ["488"])
    out = tmp_path / "run.zarr"
    result = runner.invoke(
        app,
        ["acquire", "--config", "demo", "--sequence", str(seq), "--out", str(out),
         "--backend", "wiener", "--pipeline-config", str(config)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    store = open_store(out)
    assert store.info["config"]["max_backlog"] == 2
    assert store.info["compression"] == "none" and len(store.raw.metadata.codecs) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("max_backlogg: 2\n")
    result = runner.invoke(
        app,
        ["acquire", "--config", "demo", "--sequence", str(seq), "--out", str(tmp_path / "x"),
         "--pipeline-config", str(bad)],
    )  # fmt: skip
    assert result.exit_code == 2 and "max_backlogg" in result.output
