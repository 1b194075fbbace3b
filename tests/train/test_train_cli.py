from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

pytest.importorskip("torch")

from livesr.cli import app

CONFIG = """\
model:
  architecture: dfcan
  in_frames: 9
  scale: 2
  options: {{groups: 1, blocks: 1, width: 8, reduction: 4, size_psc: 16}}
data:
  source: tiff_pairs
  root: {root}
out_dir: {out}
iterations: 2
batch_size: 2
patch_size: 16
val_every: 2
val_patches: 2
threads: 1
progress: false
"""


def test_livesr_train_runs_and_exports(dlsr_tree: Path, tmp_path: Path) -> None:
    from livesr.models import read_card

    config = tmp_path / "train.yaml"
    config.write_text(CONFIG.format(root=dlsr_tree, out=tmp_path / "run"))
    weights = tmp_path / "w.safetensors"
    result = CliRunner().invoke(
        app, ["train", "--config", str(config), "--export", str(weights), "--name", "tiny"]
    )
    assert result.exit_code == 0, result.output
    assert "finished: step 2" in result.output
    card = read_card(weights)
    assert card.name == "tiny" and card.options["width"] == 8
    assert card.training_command.startswith("livesr ")
    # --resume with more iterations continues the same run.
    result = CliRunner().invoke(
        app, ["train", "--config", str(config), "--resume", "--iterations", "4"]
    )
    assert result.exit_code == 0, result.output
    assert "finished: step 4" in result.output


def test_livesr_train_names_an_unknown_key(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text("model: {in_frames: 9}\nlearning_rate: 0.1\n")
    result = CliRunner().invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 2
    assert "learning_rate" in result.output and "Extra inputs are not permitted" in result.output


def test_livesr_train_reports_missing_data(tmp_path: Path) -> None:
    config = tmp_path / "train.yaml"
    config.write_text(f"data: {{source: biosr, root: {tmp_path / 'nope'}}}\n")
    result = CliRunner().invoke(app, ["train", "--config", str(config)])
    assert result.exit_code == 2
    assert "does not exist" in result.output
