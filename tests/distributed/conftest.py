from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("distributed")

from livesr.io import SRStore  # noqa: E402
from livesr.reconstruct import StackReconstructor  # noqa: E402
from livesr.simulate import simulate_sample  # noqa: E402
from tiny_models import save_tiny_weights  # noqa: E402

T, SIZE = 4, 32
CHANNELS = ("488", "561")
POSITIONS = 2


def make_weights(path: Path, seed: int) -> Path:
    return save_tiny_weights(path, seed=seed)


@pytest.fixture
def weights(tmp_path: Path) -> Path:
    return make_weights(tmp_path / "tiny-dfcan.safetensors", 0)


@pytest.fixture
def other_weights(tmp_path: Path) -> Path:
    return make_weights(tmp_path / "tiny-dfcan-b.safetensors", 1)


def _write_raw_run(path: Path) -> SRStore:
    """A two-position, two-colour run store with every raw frame on disk and no SR yet."""
    store = SRStore.create(
        path, channels=CHANNELS, n_patterns=9, frame_shape=(SIZE, SIZE), scale=2,
        n_timepoints=T, positions=POSITIONS,
    )  # fmt: skip
    for p in range(POSITIONS):
        for c, structure in enumerate(("microtubules", "ccps")):
            seed = c + 2 * p
            sample = simulate_sample(structure, size=SIZE, photons=200, timepoints=T, seed=seed)
            for t in range(T):
                key = (t, p, 0, c)
                store.write_raw_frames(key, 0, sample.raw[t])
                store.write_wf(key, sample.raw[t].mean(axis=0).astype(np.float32))
    return store


def _reconstruct_live(
    store: SRStore, weights: Path, keys: list[tuple[int, int, int, int]]
) -> None:
    """What the live pipeline's inference worker does for stacks `keys`."""
    rec = StackReconstructor.create(weights, "torch")
    store.set_reconstructor_specs("sr", dict.fromkeys(CHANNELS, rec.spec))
    store.set_status("finished")
    for key in keys:
        raw_frames = [[*key, i] for i in range(9)]
        sr, prov = rec(store.read_stack(key), raw_frames=raw_frames)
        store.write_sr(key, sr)
        norm = prov["normalization"]
        store.record_stacks("sr", [key], {"norm_low": [norm["low"]], "norm_high": [norm["high"]]})
    rec.close()


@pytest.fixture
def write_raw_run() -> Callable[[Path], SRStore]:
    return _write_raw_run


@pytest.fixture
def reconstruct_live() -> Callable[[SRStore, Path, list[tuple[int, int]]], None]:
    return _reconstruct_live
