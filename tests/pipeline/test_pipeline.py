from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import useq

from livesr._host import host_tuning
from livesr.acquire import open_core
from livesr.config import HostTuning, PipelineConfig
from livesr.io import SRStore, open_store
from livesr.pipeline import LivePipeline, PipelineError, SRFrameInfo, StackSkipped
from livesr.reconstruct import ReconstructorInfo


def _sequence(n_t: int = 3, channels: tuple[str, ...] = ("488", "561")) -> useq.MDASequence:
    return useq.MDASequence(channels=list(channels), time_plan={"interval": 0, "loops": n_t})


@pytest.mark.parametrize("hardware_sequencing", [True, False], ids=["triggered", "software"])
def test_every_frame_lands_in_its_stack_slot(
    core: Any, tmp_path: Path, upsample_mean: Any, hardware_sequencing: bool
) -> None:
    core.mda.engine.use_hardware_sequencing = hardware_sequencing
    seen: list[tuple[dict[str, int], np.ndarray, dict[str, Any]]] = []
    core.mda.events.frameReady.connect(
        lambda img, ev, meta: seen.append((dict(ev.index), img.copy(), meta))
    )
    recs = {"488": upsample_mean(), "561": upsample_mean()}
    sr_threads: set[str] = set()
    ready: list[SRFrameInfo] = []

    def on_sr(image: np.ndarray, info: SRFrameInfo) -> None:
        sr_threads.add(threading.current_thread().name)
        ready.append(info)

    with LivePipeline(core, _sequence(), tmp_path / "run.zarr", reconstructors=recs) as pipe:
        pipe.signals.srFrameReady.connect(on_sr)
        pipe.run()

    store = open_store(tmp_path / "run.zarr")
    assert len(seen) == 3 * 2 * 9
    for index, img, meta in seen:
        pos = index["a"] * 3 + index["ph"]
        np.testing.assert_array_equal(store.raw[index["t"], index["c"], pos, 0], img)
        if hardware_sequencing:
            # The camera reports which pattern and laser it actually used for this frame.
            assert meta["hardware_triggered"]
            assert int(meta["camera_metadata"]["SIMPattern"]) == pos
            assert meta["camera_metadata"]["Laser"] == ("488", "561")[index["c"]]
    assert store.raw_done().all() and store.sr_done().all()
    mean = store.raw[1, 1, :, 0].astype(np.float32).mean(axis=0)
    np.testing.assert_allclose(store.wf[1, 1, 0], mean, rtol=1e-6)
    np.testing.assert_allclose(store.sr[1, 1, 0][::2, ::2], mean, rtol=1e-5)
    # Channels differ (microtubules vs clathrin-coated pits).
    assert not np.allclose(store.wf[0, 0, 0], store.wf[0, 1, 0])
    s = pipe.summary
    assert (s.frames_acquired, s.frames_written, s.stacks_assembled) == (54, 54, 6)
    assert s.sr_live + s.sr_backfilled == 6 and s.status == "finished"
    assert store.status == "finished" and store.info["summary"]["frames_written"] == 54
    assert store.info["sequence"]["channels"][0]["config"] == "488"
    assert "MainThread" not in sr_threads and "MainThread" not in recs["488"].threads
    assert all(r.closed for r in recs.values())
    assert {(i.t, i.channel) for i in ready} == {(t, c) for t in range(3) for c in ("488", "561")}
    assert all(i.key == (i.t, 0, 0, i.c) and i.reconstruct_ms > 0 for i in ready)
    assert all(i.backfill == (i.latency_ms is None) for i in ready)


def test_slow_reconstructor_skips_live_and_backfills(
    core: Any, tmp_path: Path, upsample_mean: Any
) -> None:
    slow = upsample_mean(delay_s=0.15)
    skipped: list[StackSkipped] = []
    config = PipelineConfig(max_backlog=1)
    with LivePipeline(
        core, _sequence(6, ("488",)), tmp_path / "run.zarr", reconstructors={"488": slow},
        config=config,
    ) as pipe:  # fmt: skip
        pipe.signals.stackSkipped.connect(skipped.append)
        pipe.run()
    store = open_store(tmp_path / "run.zarr")
    s = pipe.summary
    assert s.frames_written == 6 * 9 and store.raw_done().all()
    assert skipped and all(s.reason == "backlog" and s.backfilled for s in skipped)
    assert s.sr_backfilled == len(skipped) == s.stacks_skipped
    assert s.sr_live + s.sr_backfilled == 6
    assert store.sr_done().all() and store.missing_sr() == []
    assert s.latency_p50_ms is not None and s.latency_p95_ms >= s.latency_p50_ms


def test_reconstructor_error_is_reported_and_backfilled(
    core: Any, tmp_path: Path, upsample_mean: Any
) -> None:
    flaky = upsample_mean(fail_on={1})
    skipped: list[StackSkipped] = []
    with LivePipeline(
        core, _sequence(3, ("488",)), tmp_path / "run.zarr", reconstructors={"488": flaky}
    ) as pipe:
        pipe.signals.stackSkipped.connect(skipped.append)
        pipe.run()
    assert len(skipped) == 1
    assert skipped[0].reason == "error" and skipped[0].channel == "488"
    assert skipped[0].detail.startswith("RuntimeError: deliberate failure")
    s = pipe.summary
    assert s.status == "finished" and s.frames_written == 27
    assert (s.sr_live, s.sr_backfilled, s.sr_failed) == (2, 1, 0)
    assert open_store(tmp_path / "run.zarr").sr_done().all()


def test_writer_error_stops_the_run_and_keeps_what_was_written(
    core: Any, tmp_path: Path, upsample_mean: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Fault injection: the disk "fills up" when time point 2 is written.
    real_write = SRStore.write_raw_frames

    def failing_write(self: SRStore, key: Any, *args: Any) -> None:
        if key.t >= 2:
            raise OSError(28, "No space left on device")
        real_write(self, key, *args)

    monkeypatch.setattr(SRStore, "write_raw_frames", failing_write)
    finished: list[Any] = []
    with pytest.raises(PipelineError, match="No space left"):
        # One burst per time point, so the cancel takes effect at the next time point.
        sequence = useq.MDASequence(channels=["488"], time_plan={"interval": 0.02, "loops": 20})
        with LivePipeline(
            core, sequence, tmp_path / "run.zarr",
            reconstructors={"488": upsample_mean()},
        ) as pipe:  # fmt: skip
            pipe.signals.pipelineFinished.connect(finished.append)
            pipe.run()
    assert not core.mda.is_running()
    store = open_store(tmp_path / "run.zarr")
    assert store.status == "failed"
    assert finished and finished[0].frames_written == 18
    assert finished[0].frames_acquired < 20 * 9  # the acquisition was stopped
    assert store.raw_done()[:2, 0, 0, 0].all() and not store.raw_done()[2, 0, 0, 0]
    assert store.sr_done()[:2, 0, 0, 0].all()


def test_cancel_mid_run_leaves_a_readable_store(
    core: Any, tmp_path: Path, upsample_mean: Any
) -> None:
    core.setExposure(5.0)
    with LivePipeline(
        core, _sequence(50, ("488",)), tmp_path / "run.zarr",
        reconstructors={"488": upsample_mean()},
    ) as pipe:  # fmt: skip
        pipe.signals.srFrameReady.connect(
            lambda img, info: core.mda.cancel() if info.t == 2 else None
        )
        pipe.run()
    store = open_store(tmp_path / "run.zarr")
    raw_done, sr_done = store.raw_done()[:, 0, 0, 0], store.sr_done()[:, 0, 0, 0]
    assert pipe.summary.status == "interrupted" and store.status == "interrupted"
    assert 3 <= raw_done.sum() < 50
    # Every complete raw stack got its SR; nothing beyond the raw data is claimed.
    np.testing.assert_array_equal(sr_done, raw_done)
    assert store.missing_sr() == []


def test_bad_input_fails_before_the_first_frame(
    core: Any, tmp_path: Path, upsample_mean: Any
) -> None:
    frames: list[Any] = []
    core.mda.events.frameReady.connect(lambda *a: frames.append(a))
    with pytest.raises(ValueError, match=r"channels \['640'\] are not presets"):
        LivePipeline(core, _sequence(2, ("488", "640")), tmp_path / "a.zarr")

    class NonlinearModel(upsample_mean):  # type: ignore[misc, valid-type]
        @property
        def info(self) -> ReconstructorInfo:
            return ReconstructorInfo(name="nl", backend="numpy", in_frames=25, scale=3)

    with pytest.raises(ValueError, match="takes 25 frames per stack, but the pattern has 3 x 3"):
        LivePipeline(
            core, _sequence(2), tmp_path / "b.zarr", reconstructors={"488": NonlinearModel()}
        )
    (tmp_path / "c.zarr").mkdir()
    with pytest.raises(FileExistsError, match="already exists"):
        LivePipeline(core, _sequence(2), tmp_path / "c.zarr")
    with pytest.raises(ValueError, match="also has"):
        LivePipeline(
            core,
            useq.MDASequence(
                channels=["488"], grid_plan={"rows": 2, "columns": 1, "fov_width": 8}
            ),
            tmp_path / "d.zarr",
        )
    assert frames == [] and not (tmp_path / "a.zarr").exists()


def test_cfg_that_does_not_load_is_a_clear_error(tmp_path: Path) -> None:
    cfg = tmp_path / "rig.cfg"
    cfg.write_text("Property,Core,Initialize,0\nDevice,Cam,NoSuchAdapter,Cam\n")
    with pytest.raises(RuntimeError, match=r"could not load microscope config .*rig.cfg"):
        open_core(cfg)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        open_core(tmp_path / "missing.cfg")


def test_demo_cfg_file_is_the_embedded_demo(tmp_path: Path) -> None:
    from livesr.simulate.devices import DEMO_CFG

    path = Path(__file__).resolve().parents[2] / "hardware_configs" / "demo_sim.cfg"
    assert path.read_text() == DEMO_CFG
    mmc = open_core(path)
    try:
        assert set(mmc.getAvailableConfigs("Channel")) == {"488", "561"}
        assert mmc.isPropertySequenceable("Pattern", "Label")
        assert mmc.getPixelSizeUm() == pytest.approx(0.0626)
    finally:
        mmc.unloadAllDevices()


def test_wiener_live_on_the_demo_microscope(core: Any, tmp_path: Path) -> None:
    from livesr.pipeline import run_live

    core.setProperty("Camera", "Size", 128)
    summary = run_live(
        core, _sequence(2), tmp_path / "run.zarr", models={"488": "wiener", "561": "wiener"}
    )
    store = open_store(tmp_path / "run.zarr")
    assert summary.status == "finished" and store.sr_done().all()
    assert store.sr.shape == (2, 2, 1, 256, 256)
    sr, wf = store.sr[1, 0, 0], store.wf[1, 0, 0]
    # Wiener SIM keeps the mean intensity and resolves more than the wide-field image.
    assert sr.mean() == pytest.approx(wf.mean(), rel=0.2)
    specs = store.reconstructor_specs()
    assert specs["488"].backend == "wiener" and specs["561"].model == "wiener"


@pytest.mark.parametrize("backend", ["torch", "onnxruntime"])
def test_dfcan_weights_live_through_stack_reconstructor(
    core: Any, tmp_path: Path, backend: str
) -> None:
    pytest.importorskip("torch")
    if backend == "onnxruntime":
        pytest.importorskip("onnxruntime")
    from livesr.models import DFCAN, save_weights
    from livesr.pipeline import run_live

    weights = tmp_path / "tiny.safetensors"
    save_weights(DFCAN(in_frames=9, scale=2, groups=1, blocks=1, width=16), weights)
    summary = run_live(
        core, _sequence(2, ("488",)), tmp_path / "run.zarr",
        models={"488": str(weights)}, backend=backend,
    )  # fmt: skip
    store = open_store(tmp_path / "run.zarr")
    assert summary.status == "finished" and store.sr_done().all()
    assert store.sr.shape == (2, 1, 1, 128, 128)
    assert np.isfinite(store.sr[1, 0, 0]).all() and store.sr[1, 0, 0].std() > 0
    spec = store.reconstructor_specs()["488"]
    assert spec.backend == backend and spec.weights_sha256
    assert (store.stack_values()["backend"][:, 0, 0, 0] == f"{backend}-cpu").all()
    # A CPU network built by name reconstructs in a child process by default.
    assert summary.inference["488"].startswith("process")


def test_store_survives_a_killed_process(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run.zarr"
    script = f"""
import useq
from livesr.acquire import open_core
from livesr.pipeline import LivePipeline
core = open_core("demo")
core.setProperty("Camera", "Size", 64)
core.setExposure(20.0)
seq = useq.MDASequence(channels=["488"], time_plan={{"interval": 0, "loops": 500}})
with LivePipeline(core, seq, {str(out)!r}) as pipe:
    pipe.run()
"""
    proc = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if (out / "0" / "raw_done").exists() and open_store(out).raw_done().sum() >= 3:
                break
            time.sleep(0.2)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    store = open_store(out)
    assert store.status == "running"  # it never finished
    done = np.flatnonzero(store.raw_done()[:, 0, 0, 0])
    assert len(done) >= 3
    for t in done:
        stack = store.read_stack((int(t), 0, 0, 0))
        assert (stack > 0).all() and stack.std() > 0
    assert store.missing_sr() == [(int(t), 0, 0, 0) for t in done]  # what reprocess would do


def test_hybrid_cfg_cpp_camera_with_python_pattern_device(tmp_path: Path) -> None:
    pytest.importorskip("mm_test_adapters")
    cfg = Path(__file__).resolve().parents[2] / "hardware_configs" / "demo_hybrid.cfg"
    mmc = open_core(cfg)
    triggered: list[bool] = []
    mmc.mda.events.frameReady.connect(
        lambda img, ev, meta: triggered.append(meta["hardware_triggered"])
    )
    try:
        mmc.setROI(0, 0, 64, 64)
        with LivePipeline(mmc, _sequence(2), tmp_path / "run.zarr") as pipe:
            pipe.run()
    finally:
        mmc.unloadAllDevices()
    store = open_store(tmp_path / "run.zarr")
    assert pipe.summary.frames_written == 36 and store.raw_done().all()
    assert store.raw.shape == (2, 2, 9, 1, 64, 64)
    # The C++ camera runs 9-frame bursts while the Python device steps the pattern.
    assert all(triggered) and len(triggered) == 36


def test_out_of_order_and_dropped_frames_on_a_real_run(
    core: Any, tmp_path: Path, upsample_mean: Any
) -> None:
    seen: dict[tuple[int, int], np.ndarray] = {}
    core.mda.events.frameReady.connect(
        lambda img, ev, meta: seen.__setitem__(
            (ev.index["t"], ev.index["a"] * 3 + ev.index["ph"]), img.copy()
        )
    )
    skipped: list[StackSkipped] = []
    with LivePipeline(
        core,
        _sequence(3, ("488",)),
        tmp_path / "run.zarr",
        reconstructors={"488": upsample_mean()},
    ) as pipe:
        pipe.signals.stackSkipped.connect(skipped.append)
        events = list(pipe.events)
        # t=0: patterns acquired in reverse order; t=1: pattern 4 never arrives (dropped).
        run = events[:9][::-1] + [e for e in events[9:18] if e.index["a"] * 3 + e.index["ph"] != 4]
        core.mda.run(run + events[18:])
    store = open_store(tmp_path / "run.zarr")
    for (t, pos), img in seen.items():
        np.testing.assert_array_equal(store.raw[t, 0, pos, 0], img)  # every frame in its slot
    assert store.raw_done()[:, 0, 0, 0].tolist() == [True, False, True]
    assert store.sr_done()[:, 0, 0, 0].tolist() == [True, False, True]
    assert skipped == [StackSkipped((1, 0, 0, 0), "488", "incomplete", "missing frames [4]")]
    assert not skipped[0].backfilled and str(skipped[0]) == "incomplete: missing frames [4]"
    s = pipe.summary
    assert (s.frames_written, s.stacks_assembled, s.stacks_incomplete) == (26, 2, 1)
    assert store.missing_sr() == []  # an incomplete stack is not claimed as reconstructable


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_a_library_run_keeps_the_priority_of_its_threads(
    core: Any, tmp_path: Path, upsample_mean: Any
) -> None:
    rec = upsample_mean()
    base = os.getpriority(os.PRIO_PROCESS, 0)
    with LivePipeline(
        core, _sequence(2, ("488",)), tmp_path / "run.zarr", reconstructors={"488": rec}
    ) as pipe:
        pipe.run()
    assert rec.nice_values == {base}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
@pytest.mark.parametrize("nice", [0, 7])
def test_reconstruction_runs_below_the_acquisition_priority(
    core: Any, tmp_path: Path, upsample_mean: Any, nice: int
) -> None:
    rec = upsample_mean()
    base = os.getpriority(os.PRIO_PROCESS, 0)
    # What the livesr commands do: the application opts in to host tuning.
    with host_tuning(HostTuning(nice=nice)), LivePipeline(
        core, _sequence(2, ("488",)), tmp_path / "run.zarr", reconstructors={"488": rec},
    ) as pipe:  # fmt: skip
        pipe.run()
    assert rec.nice_values == {min(19, base + nice)}
    # The acquisition (this) thread keeps its priority.
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == base
