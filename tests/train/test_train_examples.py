from __future__ import annotations

import runpy
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("torch")

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_train_biosr_example_on_a_tiny_tree(
    biosr_tree: Callable[..., Path], tmp_path: Path
) -> None:
    from livesr.models import load_weights

    root = biosr_tree(cells=(1, 6, 7), levels=(1, 2))
    main = runpy.run_path(str(EXAMPLES / "train_biosr.py"))["main"]
    out = tmp_path / "run"
    weights = main([str(root), "--small", "--iterations", "4", "--patch-size", "16",
                    "--val-every", "2", "--val-patches", "2", "--train-cells", "6", "7",
                    "--val-cells", "1", "--out", str(out)])  # fmt: skip
    _, card = load_weights(weights)
    assert card.in_frames == 9 and card.training_data["source"] == "biosr"
    assert card.training_data["iterations"] == 4
    assert "train_biosr.py" in card.training_command
    assert (out / "log.csv").read_text().count("\n") == 3  # header + 2 validations


def test_train_biosr_example_reports_missing_cells(
    biosr_tree: Callable[..., Path], tmp_path: Path
) -> None:
    root = biosr_tree(cells=(1, 6), levels=(1,))
    main = runpy.run_path(str(EXAMPLES / "train_biosr.py"))["main"]
    with pytest.raises(FileNotFoundError, match=r"cells \[7, 8\] are not in"):
        main([str(root), "--train-cells", "6", "7", "8", "--out", str(tmp_path / "x")])
