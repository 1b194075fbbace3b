"""Promise: NaN or infinite input is refused clearly, never turned into a NaN image."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

pytest.importorskip("onnxruntime")
pytest.importorskip("torch")

from livesr.reconstruct import StackReconstructor
from tiny_models import save_tiny_weights

LIVESR = shutil.which("livesr") or str(Path(sys.executable).with_name("livesr"))


def nan_stack() -> np.ndarray:
    stack = np.random.default_rng(0).poisson(300, (9, 32, 32)).astype(np.float32)
    stack[4, 10, 10] = np.nan
    return stack


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_a_network_refuses_nan_input(tmp_path: Path, backend: str) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    sr_fn = StackReconstructor.create(weights, backend, frame_shape=(32, 32))

    with pytest.raises(ValueError, match="NaN or infinite"):
        sr_fn(nan_stack())


def test_reconstruct_cli_names_the_nan_input(tmp_path: Path) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    raw = tmp_path / "raw.tif"
    tifffile.imwrite(raw, nan_stack())

    done = subprocess.run(
        [LIVESR, "reconstruct", str(raw), "--method", str(weights)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LIVESR_DEBUG": "0"},
    )

    assert done.returncode != 0
    assert "NaN or infinite" in done.stderr
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.glob("raw_*.tif"))
