from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

zarr = pytest.importorskip("zarr")
from ome_zarr_models.v05.bioformats2raw import BioFormats2Raw  # noqa: E402
from ome_zarr_models.v05.image import Image  # noqa: E402

from livesr.io import SRStore, StackKey, open_store  # noqa: E402


def _store(path: Path, n_t: int | None = 2, positions: int = 1, n_z: int = 1) -> SRStore:
    return SRStore.create(
        path,
        channels=["488", "561"],
        n_patterns=9,
        frame_shape=(16, 24),
        scale=2,
        n_timepoints=n_t,
        positions=positions,
        n_z=n_z,
        pixel_size_um=0.0626,
        z_step_um=0.25,
        interval_s=0.5,
        attrs={"note": "test"},
    )


def _write_stack(store: SRStore, key: tuple[int, int, int, int], value: int) -> np.ndarray:
    frames = np.stack([np.full((16, 24), value + f, np.uint16) for f in range(9)])
    for f, frame in enumerate(frames):
        store.write_raw_frame(key, f, frame)
    store.write_wf(key, frames.mean(0, dtype=np.float32))
    return frames


def test_round_trip_and_masks(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr")
    frames = _write_stack(store, (1, 0, 0, 0), 100)
    store.write_sr((1, 0, 0, 0), np.full((32, 48), 7, np.float32))
    store.record_stacks("sr", [(1, 0, 0, 0)], {"norm_high": [900.0], "backend": ["wiener-cpu"]})
    _write_stack(store, (0, 0, 0, 1), 5)

    back = open_store(tmp_path / "run.zarr")
    np.testing.assert_array_equal(back.read_stack((1, 0, 0, 0)), frames)
    assert back.raw.shape == (2, 2, 9, 1, 16, 24)
    assert back.sr.shape == (2, 2, 1, 32, 48)
    # Masks are (T, P, Z, C).
    assert back.sr_done()[:, 0, 0].tolist() == [[False, False], [True, False]]
    assert back.raw_done()[:, 0, 0].tolist() == [[False, True], [True, False]]
    assert back.missing_sr() == [StackKey(0, 0, 0, 1)]
    values = back.stack_values()
    assert values["norm_high"][1, 0, 0, 0] == 900.0
    assert np.isnan(values["norm_high"]).sum() == 3
    assert values["backend"][:, 0, 0].tolist() == [[None, None], ["wiener-cpu", None]]
    assert back.info["note"] == "test"
    assert back.channels == ("488", "561")


def test_positions_and_z_are_separate_series(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr", positions=2, n_z=3)
    _write_stack(store, (0, 1, 2, 1), 50)
    store.write_sr((0, 1, 2, 1), np.full((32, 48), 3, np.float32))
    store.record_stacks("sr", [StackKey(0, 1, 2, 1)], {"backend": ["onnxruntime-cpu"]})
    back = open_store(tmp_path / "run.zarr")
    assert back.positions == ("p0", "p1") and back.n_z == 3
    assert back.raw_array(1).shape == (2, 2, 9, 3, 16, 24)
    assert back.sr_array("sr", 1).shape == (2, 2, 3, 32, 48)
    assert back.raw_done().shape == (2, 2, 3, 2)
    assert np.argwhere(back.raw_done()).tolist() == [[0, 1, 2, 1]]
    assert back.missing_sr() == []
    assert back.stack_values()["backend"][0, 1, 2, 1] == "onnxruntime-cpu"
    assert back.read_stack(StackKey(0, 1, 2, 1))[4, 0, 0] == 54
    assert not back.wf_array(0)[0].any()  # position 0 untouched
    assert zarr.open_group(tmp_path / "run.zarr/OME").attrs["ome"]["series"] == ["0", "1"]


def test_root_is_a_valid_bioformats2raw_collection(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr", positions=2, n_z=2)
    rng = np.random.default_rng(0)
    for p in range(2):
        for c in range(2):
            key = (0, p, 1, c)
            _write_stack(store, key, 100 * (c + 1))
            store.write_sr(key, rng.uniform(200, 900, (32, 48)).astype(np.float32))
    store.add_sr("sr_dfgan")
    store.set_status("finished")

    root = zarr.open_group(tmp_path / "run.zarr", mode="r")
    collection = BioFormats2Raw.from_zarr(root)
    assert list(collection.images) == ["0", "1"]
    for p in ("0", "1"):
        for path in (p, f"{p}/wf", f"{p}/sr_dfgan"):
            image = Image.from_zarr(zarr.open_group(tmp_path / "run.zarr" / path, mode="r"))
            multiscale = image.attributes.ome.multiscales[0]
            assert [a.name for a in multiscale.axes] == ["t", "c", "z", "y", "x"]
    sr_ome = root["0"].attrs["ome"]
    scale = sr_ome["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale == pytest.approx([0.5, 1.0, 0.25, 0.0313, 0.0313])
    wf_scale = root["0/wf"].attrs["ome"]["multiscales"][0]["datasets"][0]
    assert wf_scale["coordinateTransformations"][0]["scale"][3:] == pytest.approx([0.0626] * 2)
    # Display windows come from the data: SR 200..900, WF of channel 1 at 200..208.
    sr_window = sr_ome["omero"]["channels"][0]["window"]
    assert 195 < sr_window["start"] < 260 and 840 < sr_window["end"] < 905
    wf_window = root["1/wf"].attrs["ome"]["omero"]["channels"][1]["window"]
    assert 199 < wf_window["start"] <= wf_window["end"] < 210
    xml = (tmp_path / "run.zarr" / "OME" / "METADATA.ome.xml").read_text()
    assert 'ID="Image:1"' in xml and 'SizeZ="2"' in xml

    yaozarrs = pytest.importorskip("yaozarrs")
    yaozarrs.validate_zarr_store(str(tmp_path / "run.zarr"))
    yaozarrs.validate_zarr_store(str(tmp_path / "run.zarr" / "1" / "wf"))


def test_grows_when_length_unknown_and_trims(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr", n_t=None)
    assert store.n_timepoints == 0
    for t in range(5):
        _write_stack(store, (t, 0, 0, 0), t)
    assert store.n_timepoints >= 5
    store.trim(5)
    assert open_store(tmp_path / "run.zarr").raw.shape[0] == 5
    assert open_store(tmp_path / "run.zarr").raw_done()[:, 0, 0, 0].all()


def test_readable_while_another_thread_writes(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr", n_t=None)
    stop = threading.Event()
    seen: list[int] = []

    def read() -> None:
        while not stop.is_set():
            reader = open_store(tmp_path / "run.zarr")
            done = reader.raw_done()
            for key in np.argwhere(done):
                assert reader.read_stack(tuple(int(i) for i in key))[0, 0, 0] == key[0]
            seen.append(int(done.sum()))

    thread = threading.Thread(target=read)
    thread.start()
    for t in range(20):
        _write_stack(store, (t, 0, 0, 0), t)
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
    old = zarr.open_group(tmp_path / "old.zarr", mode="w", zarr_format=3)
    old.attrs["livesr"] = {"channels": ["488"]}  # a store of the layout before positions
    with pytest.raises(ValueError, match="older layout"):
        open_store(tmp_path / "old.zarr")
    with pytest.raises(FileNotFoundError):
        open_store(tmp_path / "missing.zarr")


def test_append_mode_backfills(tmp_path: Path) -> None:
    _write_stack(_store(tmp_path / "run.zarr"), (0, 0, 0, 0), 1)
    store = open_store(tmp_path / "run.zarr", mode="r+")
    for key in store.missing_sr():
        store.write_sr(key, np.ones((32, 48), np.float32))
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
    store = _store(tmp_path / "run.zarr", n_t=None, positions=2, n_z=2)
    frames = np.random.default_rng(0).integers(0, 4000, (9, 16, 24), dtype=np.uint16)
    store.write_raw_frames((0, 1, 1, 1), 0, frames[:4])
    store.write_raw_frames((3, 1, 0, 1), 4, frames[4:])  # grows the array: the writer follows
    back = open_store(tmp_path / "run.zarr")
    np.testing.assert_array_equal(back.raw_array(1)[0, 1, :4, 1], frames[:4])
    np.testing.assert_array_equal(back.raw_array(1)[3, 1, 4:, 0], frames[4:])
    assert store._ts_raw[1].available == tensorstore


def test_auto_choice_is_recorded_per_stack(tmp_path: Path) -> None:
    store = _store(tmp_path / "run.zarr")
    store.record_stacks(
        "sr", [(0, 0, 0, 0), (1, 0, 0, 1)],
        {"method": ["network", "wiener"], "signal_photons": [6.5, 180.0]},
    )  # fmt: skip
    values = open_store(tmp_path / "run.zarr").stack_values()
    assert values["method"][:, 0, 0].tolist() == [["network", None], [None, "wiener"]]
    assert values["signal_photons"][1, 0, 0, 1] == np.float32(180.0)
