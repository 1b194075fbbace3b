"""A 2-position x 3-z x 2-colour time-lapse on the demo microscope: nothing missing, every
position its own OME image (series), the root valid and openable the way readers open it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

useq = pytest.importorskip("useq")
zarr = pytest.importorskip("zarr")

from livesr.acquire import open_core  # noqa: E402
from livesr.io import open_store  # noqa: E402
from livesr.pipeline import LivePipeline, SRFrameInfo  # noqa: E402
from livesr.reconstruct import ReconstructorInfo  # noqa: E402

T, P, Z, C = 2, 2, 3, 2


def _sequence() -> Any:
    return useq.MDASequence(
        channels=["488", "561"],
        stage_positions=[
            useq.Position(x=0.0, y=0.0, name="left"),
            useq.Position(x=40.0, y=10.0, name="right"),
        ],
        z_plan={"range": 0.6, "step": 0.3},
        time_plan={"interval": 0, "loops": T},
    )


class _Upsample:
    """A Reconstructor: mean of the stack, nearest-neighbour x2 (fast, deterministic)."""

    info = ReconstructorInfo(name="upsample-mean", backend="numpy", in_frames=9, scale=2)

    def warmup(self) -> None:
        pass

    def __call__(self, stacks: np.ndarray) -> np.ndarray:
        mean = stacks.mean(axis=1, keepdims=True)
        return np.repeat(np.repeat(mean, 2, axis=2), 2, axis=3).astype(np.float32)

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, LivePipeline, list]]:
    out = tmp_path_factory.mktemp("pz") / "run.zarr"
    core = open_core("demo")
    core.setProperty("Camera", "Size", 64)
    core.setExposure(1.0)
    ready: list[SRFrameInfo] = []
    try:
        recs = {"488": _Upsample(), "561": _Upsample()}
        with LivePipeline(core, _sequence(), out, reconstructors=recs) as pipe:
            pipe.signals.srFrameReady.connect(lambda img, info: ready.append(info))
            pipe.run()
    finally:
        core.unloadAllDevices()
    yield out, pipe, ready


def test_positions_by_z_by_two_colours_with_nothing_missing(run: Any) -> None:
    out, pipe, ready = run
    store = open_store(out)
    s = pipe.summary
    assert s.status == "finished" and s.frames_written == T * P * Z * C * 9
    assert s.stacks_assembled == T * P * Z * C and s.stacks_incomplete == 0
    assert store.raw_done().shape == (T, P, Z, C)
    assert store.raw_done().all() and store.sr_done().all() and store.missing_sr() == []
    assert store.positions == ("left", "right") and store.n_z == Z
    assert store.info["positions"][1]["x_um"] == 40.0
    assert {tuple(i.key) for i in ready} == {
        (t, p, z, c) for t in range(T) for p in range(P) for z in range(Z) for c in range(C)
    }
    for p in range(P):
        assert store.raw_array(p).shape == (T, C, 9, Z, 64, 64)
        assert store.sr_array("sr", p).shape == (T, C, Z, 128, 128)
    # Each position shows its own field of the sample.
    for c in range(C):
        sr0, sr1 = (np.asarray(store.sr_array("sr", p)[0, c, 1]) for p in range(P))
        assert np.corrcoef(sr0.ravel(), sr1.ravel())[0, 1] < 0.5
    # z is a real axis: the middle plane is in focus (brightest), the others defocused.
    wf = np.asarray(store.wf_array(0)[0, 0])  # (Z, Y, X)
    means = wf.mean(axis=(1, 2))
    assert means[1] > means[0] and means[1] > means[2]
    # The physical z step comes from the z plan.
    ome = store.group["0"].attrs["ome"]
    scale = ome["multiscales"][0]["datasets"][0]["coordinateTransformations"][0]["scale"]
    assert scale[2] == pytest.approx(0.3)
    assert store.info["sequence"]["stage_positions"][1]["name"] == "right"


def test_the_run_store_validates_from_its_root(run: Any) -> None:
    from ome_zarr_models.v05.bioformats2raw import BioFormats2Raw
    from ome_zarr_models.v05.image import Image

    out = run[0]
    collection = BioFormats2Raw.from_zarr(zarr.open_group(out, mode="r"))
    assert list(collection.images) == ["0", "1"]
    Image.from_zarr(zarr.open_group(out / "1" / "wf", mode="r"))
    yaozarrs = pytest.importorskip("yaozarrs")
    yaozarrs.validate_zarr_store(str(out))
    # The display windows are those of the data (raw counts ~100 and up), not 0..1.
    window = zarr.open_group(out / "0", mode="r").attrs["ome"]["omero"]["channels"][0]["window"]
    assert window["start"] >= 90 and window["end"] > window["start"] + 20


def _images_from_root(root: Path) -> dict[str, Any]:
    """What a bioformats2raw reader does: OME/series -> each image's first dataset."""
    group = zarr.open_group(root, mode="r")
    assert group.attrs["ome"]["bioformats2raw.layout"] == 3
    images = {}
    for path in group["OME"].attrs["ome"]["series"]:
        for sub in (path, f"{path}/wf"):
            multiscale = group[sub].attrs["ome"]["multiscales"][0]
            images[sub] = group[f"{sub}/{multiscale['datasets'][0]['path']}"]
    return images


def test_ndv_opens_every_image_found_from_the_root(run: Any) -> None:
    # ndv's data layer, which its ArrayViewer shows (the Qt widgets fetch icons from the
    # internet at start, so the viewer window itself is not opened here).
    ndv = pytest.importorskip("ndv")

    images = _images_from_root(run[0])
    assert set(images) == {"0", "0/wf", "1", "1/wf"}
    for path, array in images.items():
        wrapper = ndv.DataWrapper.create(array)
        assert tuple(wrapper.sizes().values()) == array.shape, path
        plane = np.asarray(wrapper.isel({0: 1, 1: 0, 2: 2}))
        assert plane.shape == array.shape[3:] and plane.std() > 0
