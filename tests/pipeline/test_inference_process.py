"""Live reconstruction in a child process: same SR as in-process, and nothing lost if it fails."""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import useq

pytest.importorskip("torch")

from livesr._host import host_tuning
from livesr.config import HostTuning, PipelineConfig
from livesr.io import open_store
from livesr.pipeline import LivePipeline, SRFrameInfo, build_reconstructors
from livesr.reconstruct import StackReconstructor
from tiny_models import save_tiny_weights

pytestmark = pytest.mark.skipif(os.name != "posix", reason="inference processes are POSIX-only")


def _sequence(n_t: int) -> useq.MDASequence:
    return useq.MDASequence(channels=["488"], time_plan={"interval": 0, "loops": n_t})


def _run(core: Any, out: Path, weights: Path, n_t: int = 3, **config: Any) -> Any:
    cfg = PipelineConfig(**config)
    recs = build_reconstructors(
        {"488": str(weights)}, backend="torch", frame_shape=(64, 64), config=cfg
    )
    with LivePipeline(core, _sequence(n_t), out, reconstructors=recs, config=cfg) as pipe:
        pipe.run()
    return pipe


def test_live_sr_from_the_child_process_equals_in_process_sr(core: Any, tmp_path: Path) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    pipe = _run(core, tmp_path / "run.zarr", weights, inference_mode="process")

    assert pipe.summary.inference["488"].startswith("process (pid ")
    store = open_store(tmp_path / "run.zarr")
    assert store.sr_done().all()
    here = StackReconstructor.create(str(weights), "torch")
    values = store.stack_values()
    for t in range(3):
        expected, expected_provenance = here(store.read_stack((t, 0, 0, 0)))
        np.testing.assert_allclose(store.sr[t, 0, 0], expected, rtol=1e-5, atol=1e-3)
        norm = expected_provenance["normalization"]
        stats = (values["norm_low"][t, 0, 0, 0], values["norm_high"][t, 0, 0, 0])
        assert stats == (norm["low"], norm["high"])
    spec, expected_spec = store.reconstructor_specs()["488"], here.spec
    assert expected_spec is not None
    for key in ("model", "weights_sha256", "backend", "device", "normalization"):
        assert getattr(spec, key) == getattr(expected_spec, key)


def test_a_killed_inference_process_falls_back_and_loses_nothing(
    core: Any, tmp_path: Path
) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    cfg = PipelineConfig(inference_mode="process")
    recs = build_reconstructors(
        {"488": str(weights)}, backend="torch", frame_shape=(64, 64), config=cfg
    )
    killed: list[int] = []
    with LivePipeline(core, _sequence(6), tmp_path / "run.zarr", reconstructors=recs,
                      config=cfg) as pipe:  # fmt: skip

        def kill_child(image: np.ndarray, info: SRFrameInfo) -> None:
            if not killed:  # after the first SR frame, as if the child crashed
                killed.append(pipe.inference_processes["488"])
                os.kill(killed[0], signal.SIGKILL)

        pipe.signals.srFrameReady.connect(kill_child)
        pipe.run()

    s = pipe.summary
    assert killed and s.status == "finished"
    assert open_store(tmp_path / "run.zarr").sr_done().all()
    assert s.sr_live + s.sr_backfilled == 6 and s.sr_failed == 0
    assert s.inference["488"] == "thread"
    assert any("inference process died" in e for e in s.errors)


def test_a_child_that_cannot_build_its_reconstructor_falls_back(
    core: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    cfg = PipelineConfig(inference_mode="process")
    recs = build_reconstructors(
        {"488": str(weights)}, backend="torch", frame_shape=(64, 64), config=cfg
    )
    # The child inherits an environment in which its backend cannot run.
    monkeypatch.setenv("LIVESR_BACKEND", "tensorrt")
    with LivePipeline(core, _sequence(2), tmp_path / "run.zarr", reconstructors=recs,
                      config=cfg) as pipe:  # fmt: skip
        pipe.run()

    s = pipe.summary
    assert s.inference["488"] == "thread" and open_store(tmp_path / "run.zarr").sr_done().all()
    assert any("could not build the reconstructor" in e and "tensorrt" in e for e in s.errors)


def test_objects_without_a_spec_stay_in_the_inference_thread(
    core: Any, tmp_path: Path, upsample_mean: Any, caplog: pytest.LogCaptureFixture
) -> None:
    rec = upsample_mean()
    config = PipelineConfig(inference_mode="process")
    with LivePipeline(core, _sequence(2), tmp_path / "run.zarr", reconstructors={"488": rec},
                      config=config) as pipe:  # fmt: skip
        pipe.run()
    assert pipe.summary.inference == {"488": "thread"}
    assert rec.threads == {"livesr-inference-488"}
    assert "not built by name" in caplog.text


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="nice values are Linux's")
def test_the_child_runs_below_the_acquisition_priority(core: Any, tmp_path: Path) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    base = os.getpriority(os.PRIO_PROCESS, 0)
    cfg = PipelineConfig(inference_mode="process")
    recs = build_reconstructors(
        {"488": str(weights)}, backend="torch", frame_shape=(64, 64), config=cfg
    )
    nice: list[int] = []
    worker_nice: set[int] = set()
    with (
        host_tuning(HostTuning(nice=5)),
        LivePipeline(
            core, _sequence(2), tmp_path / "run.zarr", reconstructors=recs, config=cfg
        ) as pipe,
    ):
        nice.append(os.getpriority(os.PRIO_PROCESS, pipe.inference_processes["488"]))
        pipe.signals.srFrameReady.connect(
            lambda *_: worker_nice.add(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        )
        pipe.run()
    assert nice == [min(19, base + 5)]
    # The inference thread only hands stacks to the child: lowered, it would keep it waiting.
    assert worker_nice == {base}
    assert os.getpriority(os.PRIO_PROCESS, 0) == base


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="pinning needs Linux and two cores",
)
def test_children_and_acquisition_get_separate_cores_for_the_run(
    core: Any, tmp_path: Path
) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    before = os.sched_getaffinity(0)
    cfg = PipelineConfig(inference_mode="process")
    recs = build_reconstructors(
        {"488": str(weights)}, backend="torch", frame_shape=(64, 64), config=cfg, threads=1
    )
    seen: dict[str, set[int]] = {}
    with (
        host_tuning(HostTuning(pin_threads=True)),
        LivePipeline(
            core, _sequence(2), tmp_path / "run.zarr", reconstructors=recs, config=cfg
        ) as pipe,
    ):

        def record(image: np.ndarray, info: SRFrameInfo) -> None:
            # On the inference thread, a thread of this process started before the run.
            seen["worker"] = os.sched_getaffinity(threading.get_native_id())

        pipe.signals.srFrameReady.connect(record)
        seen["child"] = os.sched_getaffinity(pipe.inference_processes["488"])
        seen["main"] = os.sched_getaffinity(0)
        pipe.run()

    assert seen["child"] == {max(before)}
    assert seen["main"] == seen["worker"] == before - {max(before)}
    assert os.sched_getaffinity(0) == before


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="affinity is Linux's")
def test_a_library_run_pins_nothing_and_keeps_priorities(core: Any, tmp_path: Path) -> None:
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    before = os.sched_getaffinity(0)
    base = os.getpriority(os.PRIO_PROCESS, 0)
    cfg = PipelineConfig(inference_mode="process")
    recs = build_reconstructors(
        {"488": str(weights)}, backend="torch", frame_shape=(64, 64), config=cfg
    )
    with LivePipeline(core, _sequence(1), tmp_path / "run.zarr", reconstructors=recs,
                      config=cfg) as pipe:  # fmt: skip
        child = pipe.inference_processes["488"]
        during = os.sched_getaffinity(0), os.sched_getaffinity(child)
        child_nice = os.getpriority(os.PRIO_PROCESS, child)
        pipe.run()
    assert during == (before, before)
    assert child_nice == base


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="pinning needs Linux and two cores",
)
@pytest.mark.parametrize("threads", [1, None, 64])
def test_acquisition_always_keeps_a_core(threads: int | None) -> None:
    from livesr.pipeline._affinity import split_cpus

    usable = os.sched_getaffinity(0)
    split = split_cpus(threads)
    assert split is not None
    acquisition, inference = split
    assert acquisition and inference and not acquisition & inference
    assert acquisition | inference == usable
    assert len(inference) == (1 if threads == 1 else len(usable) - 1)
