from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")
from ome_zarr_models.v05.image import Image  # noqa: E402

from livesr.io import SRStore, open_store  # noqa: E402


def _store(path: Path, n_t: int | None = 2) -> SRStore:
    return SRStore.create(
        path,
        channels=["488", "561"],
        n_patterns=9,
        frame_shape=(16, 24),
        scale=2,
        n_timepoints=n_t,
        pixel_size_um=0.0626,
        interval_s=0.5,
        attrs={"note": "test"},
    )


def _write_stack(store: SRStore, t: int, c: int, value: int) -> np.ndarray:
    frames = np.stack([np.full((16, 24), value + p, np.uint16) for p in range(9)])
    for p, frame in enumerate(frames):
        store.write_raw_frame(t, c, p, frame)
    store.write_wf(t, c, frames.mean(0, dtype=np.float32))
    return frames


def test_round_trip_and_masks(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr")
    frames = _write_stack(store, 1, 0, 100)
    store.write_sr(1, 0, np.full((32, 48), 7, np.float32))
    store.record_stacks("sr", [(1, 0)], {"norm_high": [900.0], "backend": ["wiener-cpu"]})
    _write_stack(store, 0, 1, 5)

    back = open_store(tmp_path / "run.zarr")
    np.testing.assert_array_equal(back.read_stack(1, 0), frames)
    assert back.raw.shape == (2, 2, 9, 16, 24)
    assert back.sr.shape == (2, 2, 32, 48)
    assert back.sr_done().tolist() == [[False, False], [True, False]]
    assert back.raw_done().tolist() == [[False, True], [True, False]]
    assert back.missing_sr() == [(0, 1)]
    values = back.stack_values()
    assert values["norm_high"][1, 0] == 900.0 and np.isnan(values["norm_high"]).sum() == 3
    assert values["backend"].tolist() == [[None, None], ["wiener-cpu", None]]
    assert back.info["note"] == "test"
    assert back.channels == ("488", "561")


def test_wf_and_sr_are_valid_ome_zarr_images(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr")
    _write_stack(store, 0, 0, 10)
    store.add_sr("sr_dfgan")
    for name in ("wf", "sr", "sr_dfgan"):
        image = Image.from_zarr(zarr.open_group(tmp_path / "run.zarr" / name, mode="r"))
        multiscale = image.attributes.ome.multiscales[0]
        assert [a.name for a in multiscale.axes] == ["t", "c", "y", "x"]
    scale = zarr.open_group(tmp_path / "run.zarr" / "sr").attrs["ome"]["multiscales"][0]
    xy = scale["datasets"][0]["coordinateTransformations"][0]["scale"][2:]
    assert xy == pytest.approx([0.0313, 0.0313])


def test_grows_when_length_unknown_and_trims(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr", n_t=None)
    assert store.n_timepoints == 0
    for t in range(5):
        _write_stack(store, t, 0, t)
    assert store.n_timepoints >= 5
    store.trim(5)
    assert open_store(tmp_path / "run.zarr").raw.shape[0] == 5
    assert open_store(tmp_path / "run.zarr").raw_done()[:, 0].all()


def test_readable_while_another_thread_writes(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr", n_t=None)
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not stop.is_set():
            reader = open_store(tmp_path / "run.zarr")
            done = reader.raw_done()
            for t, c in zip(*np.nonzero(done), strict=True):
                assert reader.read_stack(int(t), int(c))[0, 0, 0] == t
            seen.append(int(done.sum()))

    thread = threading.Thread(target=read)
    thread.start()
    for t in range(20):
        _write_stack(store, t, 0, t)
    stop.set()
    thread.join()
    assert seen and max(seen) <= 20


def test_refuses_existing_path_and_foreign_groups(tmp_path: Path) -> None:
    _store(tmp_path / "run.zarr")
    with pytest.raises(FileExistsError, match="already exists"):
        _store(tmp_path / "run.zarr")
    zarr.open_group(tmp_path / "other.zarr", mode="w")
    with pytest.raises(ValueError, match="not a livesr run store"):
        open_store(tmp_path / "other.zarr")
    with pytest.raises(FileNotFoundError):
        open_store(tmp_path / "missing.zarr")


def test_append_mode_backfills(tmp_path: Path) -> None:
    _write_stack(_store(tmp_path / "run.zarr"), 0, 0, 1)
    store = open_store(tmp_path / "run.zarr", mode="r+")
    for t, c in store.missing_sr():
        store.write_sr(t, c, np.ones((32, 48), np.float32))
    assert open_store(tmp_path / "run.zarr").missing_sr() == []


@pytest.mark.parametrize("tensorstore", [True, False], ids=["tensorstore", "zarr-python"])
def test_raw_writes_with_and_without_tensorstore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tensorstore: bool
) -> None:
    import sys

    if tensorstore:
        pytest.importorskip("tensorstore")
    else:
        monkeypatch.setitem(sys.modules, "tensorstore", None)  # import fails: fallback path
    store = _store(tmp_path / "run.zarr", n_t=None)
    frames = np.random.default_rng(0).integers(0, 4000, (9, 16, 24), dtype=np.uint16)
    store.write_raw_frames(0, 1, 0, frames[:4])
    store.write_raw_frames(3, 1, 4, frames[4:])  # grows the array: the writer follows
    back = open_store(tmp_path / "run.zarr")
    np.testing.assert_array_equal(back.raw[0, 1, :4], frames[:4])
    np.testing.assert_array_equal(back.raw[3, 1, 4:], frames[4:])
    assert store._ts_raw.available == tensorstore


def test_auto_choice_is_recorded_per_stack(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr")
    store.record_stacks(
        "sr", [(0, 0), (1, 1)],
        {"method": ["network", "wiener"], "signal_photons": [6.5, 180.0]},
    )  # fmt: skip
    values = open_store(tmp_path / "run.zarr").stack_values()
    assert values["method"].tolist() == [["network", None], [None, "wiener"]]
    assert values["signal_photons"][1, 1] == np.float32(180.0)
