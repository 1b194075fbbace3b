"""CPU batches can run as per-core parts side by side, with the same results as one batch."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import torch

import livesr.reconstruct.runtimes._torch as torch_backend
from livesr.models import load_model
from livesr.reconstruct import (
    OnnxRuntimeReconstructor,
    TiledReconstructor,
    TorchReconstructor,
    create_reconstructor,
)
from livesr.reconstruct._factory import cpu_parts
from livesr.reconstruct.runtimes._engine_cache import cached_onnx
from tiny_models import normalised_stacks, rel_err, save_tiny_weights

pytest.importorskip("onnxruntime")


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return save_tiny_weights(tmp_path / "tiny-dfcan.safetensors")


def test_cpu_parts_are_one_per_core_at_most() -> None:
    assert cpu_parts(1, 4) == 1
    assert cpu_parts(2, 4) == 2
    assert cpu_parts(8, 4) == 4
    assert cpu_parts(4, 1) == 1  # a reconstructor that leaves the other cores alone


def _record_threads(rec: Any, attr: str) -> list[str]:
    """Wrap `rec.<attr>` so each call notes the thread it ran on."""
    seen: list[str] = []
    inner = getattr(rec, attr)

    def wrapped(*args: Any) -> Any:
        seen.append(threading.current_thread().name)
        return inner(*args)

    setattr(rec, attr, wrapped)
    return seen


def test_torch_runs_a_batch_as_parts_on_their_own_threads(
    weights: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small frames so the test is quick; real runs split from 256x256 on.
    monkeypatch.setattr(torch_backend, "MIN_SPLIT_PIXELS", 32 * 40)
    x = normalised_stacks(5, (32, 40), seed=1)
    whole = TorchReconstructor(load_model(weights).module)
    # Opt-in (see TorchReconstructor); create_reconstructor keeps torch batches whole.
    default = create_reconstructor(weights, "torch-cpu", batch_size=2)
    assert isinstance(default, TorchReconstructor)
    assert default.parallel == 1
    rec = TorchReconstructor(load_model(weights).module, parallel=2, threads=2)
    threads_before = torch.get_num_threads()
    seen = _record_threads(rec, "_forward")
    y = rec(x)
    assert y.shape == (5, 1, 64, 80)
    assert rel_err(y, whole(x)) < 1e-5
    assert len(seen) == 2
    assert len(set(seen)) == 2  # two parts, two threads
    assert torch.get_num_threads() == threads_before  # lowered per part, then restored
    # A single stack is not split, nor are frames below the split size.
    seen.clear()
    assert rel_err(rec(x[:1]), whole(x[:1])) < 1e-5
    assert seen == [threading.current_thread().name]
    seen.clear()
    small = x[:, :, :16, :16]
    assert rel_err(rec(small), whole(small)) < 1e-5
    assert seen == [threading.current_thread().name]
    rec.close()


def test_onnxruntime_runs_a_batch_in_one_session_per_core(weights: Path) -> None:
    x = normalised_stacks(3, (32, 32), seed=2)
    ref = create_reconstructor(weights, "torch-cpu")(x)
    rec = create_reconstructor(
        weights, "onnxruntime-cpu", frame_shape=(32, 32), batch_size=2, threads=2
    )
    assert isinstance(rec, OnnxRuntimeReconstructor)
    # Each session's graph takes its share of the batch.
    assert (rec.parallel, rec.batch_size) == (2, 1)
    seen = _record_threads(rec, "_run")
    rec.warmup()
    assert len(set(seen)) == 2
    seen.clear()
    y = rec(x)  # 3 stacks: parts of 2 and 1
    assert y.shape == (3, 1, 64, 64)
    assert rel_err(y, ref) < 1e-4
    assert len(seen) == 3
    assert len(set(seen)) == 2
    rec.close()


def test_batch_of_four_on_two_cores_gives_each_session_two(weights: Path) -> None:
    rec = create_reconstructor(
        weights, "onnxruntime-cpu", frame_shape=(32, 32), batch_size=4, threads=2
    )
    assert isinstance(rec, OnnxRuntimeReconstructor)
    assert (rec.parallel, rec.batch_size) == (2, 2)
    x = normalised_stacks(4, (32, 32), seed=3)
    assert rel_err(rec(x), create_reconstructor(weights, "torch-cpu")(x)) < 1e-4


def test_tiles_run_in_per_core_parts(weights: Path) -> None:
    x = normalised_stacks(1, (80, 72), seed=4)
    rec = create_reconstructor(
        weights, "onnxruntime-cpu", frame_shape=(80, 72), tile_size=48, tile_overlap=16,
        batch_size=2, threads=2,
    )  # fmt: skip
    assert isinstance(rec, TiledReconstructor)
    assert isinstance(rec.inner, OnnxRuntimeReconstructor)
    assert rec.inner.parallel == 2
    ref = TiledReconstructor(create_reconstructor(weights, "torch-cpu"), 48, overlap=16)(x)
    assert rel_err(rec(x), ref) < 1e-4


def test_parallel_must_be_positive(weights: Path) -> None:
    loaded = load_model(weights)
    with pytest.raises(ValueError, match="parallel must be >= 1"):
        TorchReconstructor(loaded.module, parallel=0)
    path = cached_onnx(loaded, (1, 9, 32, 32))
    with pytest.raises(ValueError, match="parallel must be >= 1"):
        OnnxRuntimeReconstructor(path, in_frames=9, scale=2, parallel=0)
