"""Promise: a damaged file that livesr cached is rebuilt, not a failure forever."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("torch")

from livesr.reconstruct import create_reconstructor
from tiny_models import normalised_stacks, save_tiny_weights


def test_a_truncated_cached_onnx_graph_is_exported_again(tmp_path: Path) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    x = normalised_stacks(1, (32, 32))
    first = create_reconstructor(weights, "onnxruntime", "cpu", frame_shape=(32, 32))
    expected = first(x)
    first.close()
    (cached,) = (tmp_path / "cache" / "onnx").glob("*.onnx")
    cached.write_bytes(cached.read_bytes()[:100])

    again = create_reconstructor(weights, "onnxruntime", "cpu", frame_shape=(32, 32))

    np.testing.assert_array_equal(again(x), expected)
    again.close()
