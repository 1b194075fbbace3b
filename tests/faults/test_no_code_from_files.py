"""Promise: no file a user can hand livesr is unpickled, so none can run code."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from livesr.train import export_weights, load_checkpoint  # noqa: E402


class _RunsCode:
    """Unpickling this would create `marker`: what a planted checkpoint could do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (Path(self.marker).touch, ())


def _plant(path: Path, marker: Path) -> Path:
    torch.save({"model": {}, "step": 1, "payload": _RunsCode(marker)}, path)
    return path


def test_a_planted_checkpoint_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    planted = _plant(tmp_path / "latest.pt", marker)

    with pytest.raises(ValueError, match="never unpickles"):
        load_checkpoint(planted)
    assert not marker.exists()


def test_export_weights_refuses_a_planted_checkpoint(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    run = tmp_path / "run"
    run.mkdir()
    _plant(run / "best.pt", marker)
    _plant(run / "latest.pt", marker)

    with pytest.raises(ValueError, match="never unpickles"):
        export_weights(run / "best.pt", tmp_path / "out.safetensors")
    assert not marker.exists()
