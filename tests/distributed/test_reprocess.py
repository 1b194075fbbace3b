from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from livesr.distributed import reprocess
from livesr.io import open_store

CHANNELS = ("488", "561")
T = 4
P = 2
ALL = [(t, p, 0, c) for t in range(T) for p in range(P) for c in range(len(CHANNELS))]


class Interrupt(Exception):
    """Stands in for Ctrl-C or a killed job in the middle of a run."""


def test_reprocess_reproduces_the_live_sr(
    tmp_path: Path, weights: Path, write_raw_run, reconstruct_live
) -> None:
    store = write_raw_run(tmp_path / "run.zarr")
    reconstruct_live(store, weights, ALL)

    result = reprocess(store.path, weights, name="sr_again", n_workers=2)

    assert sorted(result.reconstructed) == ALL
    assert not result.failed
    run = open_store(store.path)
    assert run.sr_done("sr_again").all()
    for p in range(P):  # every position's series
        np.testing.assert_array_equal(run.sr_array("sr_again", p)[:], run.sr_array("sr", p)[:])
    specs = run.reconstructor_specs("sr_again")
    assert set(specs) == set(CHANNELS)
    assert specs["488"].weights_sha256 == run.reconstructor_specs()["488"].weights_sha256


def test_reprocess_completes_what_the_live_run_skipped(
    tmp_path: Path, weights: Path, write_raw_run, reconstruct_live
) -> None:
    store = write_raw_run(tmp_path / "run.zarr")
    reconstruct_live(store, weights, ALL)
    reference = [np.asarray(store.sr_array("sr", p)[:]) for p in range(P)]
    # A run that fell behind and then died: only some stacks got SR.
    live = [(0, 0, 0, 0), (1, 1, 0, 1), (3, 0, 0, 0)]
    store = write_raw_run(tmp_path / "crashed.zarr")
    reconstruct_live(store, weights, live)

    # Same weights as the live run: completes `sr` itself.
    result = reprocess(store.path, weights, n_workers=1)

    assert result.name == "sr"
    assert sorted(result.reconstructed) == sorted(set(ALL) - set(live))
    assert result.already_done == len(live)
    run = open_store(store.path)
    assert run.sr_done().all()
    for p in range(P):
        np.testing.assert_array_equal(run.sr_array("sr", p)[:], reference[p])
    # Idempotent: nothing left to do.
    again = reprocess(store.path, weights)
    assert again.reconstructed == () and again.already_done == len(ALL)


def test_interrupted_reprocess_resumes_with_only_the_missing_stacks(
    tmp_path: Path, weights: Path, write_raw_run, reconstruct_live
) -> None:
    store = write_raw_run(tmp_path / "run.zarr")
    reconstruct_live(store, weights, [])

    def stop_after_three(done: int, total: int) -> None:
        if done == 3:
            raise Interrupt

    with pytest.raises(Interrupt):
        reprocess(store.path, weights, n_workers=1, progress=stop_after_three)
    done_after_interrupt = {tuple(k) for k in np.argwhere(open_store(store.path).sr_done())}
    assert len(done_after_interrupt) == 3  # marked on the way out

    result = reprocess(store.path, weights, n_workers=2)

    assert set(result.reconstructed) == set(ALL) - done_after_interrupt
    assert result.already_done == 3
    run = open_store(store.path)
    assert run.sr_done().all()
    # The result is the same as one uninterrupted run.
    clean = write_raw_run(tmp_path / "clean.zarr")
    reconstruct_live(clean, weights, ALL)
    np.testing.assert_array_equal(run.sr[:], clean.sr[:])


def test_second_model_writes_a_second_array_and_leaves_sr_alone(
    tmp_path: Path, weights: Path, other_weights: Path, write_raw_run, reconstruct_live
) -> None:
    store = write_raw_run(tmp_path / "run.zarr")
    reconstruct_live(store, weights, ALL)
    sr_before = np.asarray(store.sr[:]).copy()
    attrs_before = store.info["sr_images"]["sr"]

    result = reprocess(store.path, other_weights, n_workers=2)

    assert result.name == "sr_tiny-dfcan-b"
    run = open_store(store.path)
    np.testing.assert_array_equal(run.sr[:], sr_before)
    assert run.sr_done().all()
    assert run.info["sr_images"]["sr"] == attrs_before
    second = np.asarray(run.sr_array(result.name)[:])
    assert run.sr_done(result.name).all()
    assert second.shape == sr_before.shape
    assert not np.allclose(second, sr_before)
    # Writing another model into the live `sr` would mix two models in one image.
    with pytest.raises(ValueError, match="mix models"):
        reprocess(store.path, other_weights, name="sr", redo=True)


def test_a_model_for_another_pattern_is_refused_before_any_work(
    tmp_path: Path, weights: Path, write_raw_run, reconstruct_live
) -> None:
    from livesr.config import ModelConfig
    from livesr.models import build_model, save_weights

    path = tmp_path / "sisr.safetensors"
    options = {"groups": 1, "blocks": 1, "width": 8, "reduction": 4, "size_psc": 16}
    save_weights(build_model(ModelConfig(in_frames=1, scale=2, options=options)), path)
    store = write_raw_run(tmp_path / "run.zarr")
    with pytest.raises(ValueError, match="takes 1 frames per stack"):
        reprocess(store.path, path)
