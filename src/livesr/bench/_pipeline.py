"""Live pipeline benchmark: camera rate with the pipeline on vs off, live SR vs standalone.

On the demo microscope (`livesr.simulate.devices`), for each model and frame size, a
multi-position z-stack time-lapse as users run it: 2 stage positions x 3 z planes x 2 colours
per time point by default (``positions``, ``z_planes``), the stage and focus moving between
stacks:

- ``camera_fps_off``: raw frames/s of the MDA alone (a frameReady slot that only counts);
- ``camera_fps_on``: the same sequence with `LivePipeline` (raw writer, inference worker);
  ``camera_ratio`` = on / off (the target is >= 0.95: reconstruction never slows the camera);
- ``sr_fps_standalone``: stacks/s of the channel reconstructor called back to back;
- ``sr_fps_live``: SR frames/s made live while acquiring with the camera faster than the
  reconstructor (the worker is never idle), ``sr_ratio`` = live / standalone (target >= 0.9;
  meaningful when ``sr_bound`` is "reconstructor", i.e. stacks had to be skipped live);
- ``latency_p50_ms`` / ``latency_p95_ms``: last raw frame of a stack -> its srFrameReady;
- ``inference``: where the channels were reconstructed (``PipelineConfig.inference_mode``:
  a child process per channel, or the inference thread);
- ``raw_lag_p50_ms`` / ``raw_lag_p99_ms`` / ``raw_lag_max_ms``: raw frame queued on the
  acquisition thread -> its chunk on disk; ``raw_stalled``: whether the acquisition ever had
  to wait for the disk (``WriterConfig.raw_backlog_mb`` reached);
- ``qc_every``: `PipelineConfig.qc_every` of the row (0: no quality checks; 1: a record and
  an error map for every SR frame); ``qc_ms_mean``: mean time of one check. Rows with
  ``--qc-every 0,1`` compare the camera and SR rates with the checks off and on;
- ``rss_peak_mb``: the process's peak resident memory during the run; ``rss_growth_pct``:
  resident memory at the end over that after warm-up (the first quarter of the run), in %:
  flat (a few %) when nothing accumulates per frame.

The long run of docs/benchmarks.md (raw-frame lag and memory over 36,000 frames):
``livesr bench --pipeline --sizes 64 --timepoints 2000 --positions 1 --z-planes 1``.

The standalone figure is the reconstructor alone in this process on the otherwise idle
machine, with the same thread count it has live: the ratio charges the pipeline with
everything it adds (acquisition, writers, signals, and the transfer to a child process).
"""

from __future__ import annotations

import itertools
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["bench_pipeline"]


def bench_pipeline(
    models: Sequence[str] | None = None,
    sizes: Sequence[int] = (256,),
    repeats: int = 1,
    timepoints: int = 8,
    exposure_ms: float = 5.0,
    positions: int = 2,
    z_planes: int = 3,
    backends: Sequence[str] | None = None,
    inference_modes: Sequence[str] = ("auto",),
    qc_every: Sequence[int] = (1,),
) -> list[dict[str, Any]]:
    """Time the live pipeline on the demo microscope.

    Parameters
    ----------
    models : sequence of str, optional
        ``"wiener"``, bundled weights or ``.safetensors`` paths; default ``["wiener"]``.
    sizes : sequence of int
        Square camera frame sizes (64, 128, 256 or 512).
    repeats : int
        Runs per configuration; rows report the median.
    timepoints : int
        Time points per run (each: positions x z planes x two channels x 9 patterns).
    exposure_ms : float
        Camera exposure (the frame period of the demo camera).
    positions, z_planes : int
        Stage positions (a field of view apart) and z planes (0.3 um apart) per time point.
    backends : sequence of str, optional
        Backend for network models (the first is used); default ``"auto"``.
    inference_modes : sequence of str
        ``PipelineConfig.inference_mode`` values to compare (``"auto"``, ``"process"``,
        ``"thread"``); a row each.
    qc_every : sequence of int
        ``PipelineConfig.qc_every`` values (0: quality checks off); a row each.

    Returns
    -------
    list of dict
        One row per (model, size).
    """
    from livesr.acquire import close_core, open_core
    from livesr.config import PipelineConfig
    from livesr.simulate import demo_calibration

    backend = backends[0] if backends else "auto"
    rows: list[dict[str, Any]] = []
    tmp = Path(tempfile.mkdtemp(prefix="livesr-bench-"))
    try:
        grid = itertools.product(models or ["wiener"], sizes, inference_modes, qc_every)
        for model, size, mode, every in grid:
            core = open_core("demo")
            try:
                core.setProperty("Camera", "Size", int(size))
                core.setExposure(exposure_ms)
                seq = _sequence(timepoints, positions, z_planes, field_um=size * 0.0626)
                # The demo microscope's calibration, as `livesr demo` runs it: a rejected fit
                # (small, dim fields) then falls back to the instrument's pattern.
                config = PipelineConfig(
                    inference_mode=mode, qc_every=int(every), calibration=demo_calibration()
                )
                runs: list[dict[str, float]] = []
                places: set[str] = set()
                for r in range(repeats):
                    run, where = _measure(
                        core, seq, config, model=model, backend=backend, size=int(size),
                        timepoints=timepoints, out=tmp / f"run{r}.zarr",
                    )  # fmt: skip
                    runs.append(run)
                    places.update(where)
            finally:
                close_core(core)
            row = _row(
                runs, places, model=model, backend=backend, size=int(size),
                exposure_ms=exposure_ms, positions=positions, z_planes=z_planes,
                timepoints=timepoints, qc_every=int(every),
            )  # fmt: skip
            rows.append(row)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows


def _measure(
    core: Any,
    seq: Any,
    config: Any,
    *,
    model: str,
    backend: str,
    size: int,
    timepoints: int,
    out: Path,
) -> tuple[dict[str, float], set[str]]:
    """One run of a configuration: the bare camera, the reconstructor alone, then live.

    Parameters
    ----------
    core : UniMMCore
        The demo microscope, camera size and exposure set.
    seq : useq.MDASequence
        The live run's sequence.
    config : PipelineConfig
        The live run's configuration (inference mode, QC).
    model, backend : str
        What reconstructs both channels.
    size : int
        Camera frame side, px.
    timepoints : int
        Time points of `seq` (the bare-camera run uses at most 100).
    out : Path
        Run store of the live run; deleted afterwards.

    Returns
    -------
    figures : dict of str to float
        The run's raw figures (rates, latencies, raw lag, memory, QC).
    places : set of str
        Where the channels were reconstructed (``"process"``, ``"thread"``).
    """
    from livesr.acquire import sim_events
    from livesr.pipeline import LivePipeline, build_reconstructors

    # The bare camera's rate does not depend on the run's length.
    short = seq.replace(time_plan={"interval": 0, "loops": min(timepoints, 100)})
    off = _camera_fps_off(core, list(sim_events(short, config.pattern)))
    recs = build_reconstructors(
        {"488": model, "561": model},
        backend=backend,
        frame_shape=(size, size),
        config=config,
    )
    standalone = _standalone_fps(core, recs, config.pattern.n_frames)
    with (
        LivePipeline(core, seq, out, reconstructors=recs, config=config) as pipe,
        _RSSSampler() as rss,
    ):
        pipe.run()
    s = pipe.summary
    shutil.rmtree(out, ignore_errors=True)
    figures = {
        "camera_fps_off": off,
        "camera_fps_on": s.camera_fps or float("nan"),
        "sr_fps_standalone": standalone,
        "sr_fps_live": s.sr_fps or 0.0,
        "latency_p50_ms": s.latency_p50_ms or float("nan"),
        "latency_p95_ms": s.latency_p95_ms or float("nan"),
        "sr_live": s.sr_live,
        "sr_backfilled": s.sr_backfilled,
        "raw_lag_p50_ms": s.raw_lag_p50_ms or float("nan"),
        "raw_lag_p99_ms": s.raw_lag_p99_ms or float("nan"),
        "raw_lag_max_ms": s.raw_lag_max_ms or float("nan"),
        "raw_stalled": float(any("keep up" in e for e in s.errors)),
        "rss_peak_mb": rss.peak_mb,
        "rss_growth_pct": rss.growth_pct,
        "qc_checked": s.qc_checked,
        "qc_ms_mean": s.qc_ms_mean or float("nan"),
    }
    # "process (pid N)" or "thread", per channel
    return figures, {m.split(" (")[0] for m in s.inference.values()}


def _row(
    runs: list[dict[str, float]],
    places: set[str],
    *,
    model: str,
    backend: str,
    size: int,
    exposure_ms: float,
    positions: int,
    z_planes: int,
    timepoints: int,
    qc_every: int,
) -> dict[str, Any]:
    """The row of one configuration: the median of its runs' figures, rounded for the table."""
    med = {k: float(np.median([run[k] for run in runs])) for k in runs[0]}
    return {
        "model": model,
        "backend": "wiener" if model == "wiener" else backend,
        "size": size,
        "exposure_ms": exposure_ms,
        "positions": positions,
        "z_planes": z_planes,
        "frames": timepoints * positions * z_planes * 2 * 9,
        "camera_fps_off": round(med["camera_fps_off"], 1),
        "camera_fps_on": round(med["camera_fps_on"], 1),
        "camera_ratio": round(med["camera_fps_on"] / med["camera_fps_off"], 3),
        "sr_fps_standalone": round(med["sr_fps_standalone"], 2),
        "sr_fps_live": round(med["sr_fps_live"], 2),
        "sr_ratio": round(med["sr_fps_live"] / med["sr_fps_standalone"], 3),
        # With no stack skipped the camera set the pace, not the reconstructor,
        # and sr_ratio is not a measure of pipeline overhead.
        "sr_bound": "reconstructor" if med["sr_backfilled"] else "camera",
        "latency_p50_ms": round(med["latency_p50_ms"], 1),
        "latency_p95_ms": round(med["latency_p95_ms"], 1),
        "sr_live": int(med["sr_live"]),
        "sr_backfilled": int(med["sr_backfilled"]),
        "inference": "+".join(sorted(places)) or "-",
        "qc_every": qc_every,
        "qc_checked": int(med["qc_checked"]),
        "qc_ms_mean": round(med["qc_ms_mean"], 2),
        "raw_lag_p50_ms": round(med["raw_lag_p50_ms"], 1),
        "raw_lag_p99_ms": round(med["raw_lag_p99_ms"], 1),
        "raw_lag_max_ms": round(med["raw_lag_max_ms"], 1),
        "raw_stalled": bool(med["raw_stalled"]),
        "rss_peak_mb": round(med["rss_peak_mb"], 1),
        "rss_growth_pct": round(med["rss_growth_pct"], 1),
    }


def _sequence(timepoints: int, positions: int, z_planes: int, field_um: float) -> Any:
    """Two colours at `positions` stage positions (a field apart) x `z_planes` planes."""
    import useq

    return useq.MDASequence(
        channels=["488", "561"],
        stage_positions=[
            useq.Position(x=2.0 * field_um * p, y=0.0, name=f"p{p}") for p in range(positions)
        ],
        z_plan={"range": 0.3 * (z_planes - 1), "step": 0.3} if z_planes > 1 else None,
        time_plan={"interval": 0, "loops": timepoints},
    )


class _RSSSampler:
    """Resident memory of this process, sampled every 0.2 s on a thread while entered."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="livesr-bench-rss", daemon=True)

    def __enter__(self) -> _RSSSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            self.samples.append(_rss_mb())

    @property
    def peak_mb(self) -> float:
        return max(self.samples, default=_rss_mb())

    @property
    def growth_pct(self) -> float:
        """RSS at the end over RSS after warm-up (a quarter into the run), in %."""
        if len(self.samples) < 8:
            return float("nan")
        warm = self.samples[len(self.samples) // 4]
        end = float(np.median(self.samples[-max(2, len(self.samples) // 20) :]))
        return (end / warm - 1.0) * 100.0


def _rss_mb() -> float:
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * 4096 / 2**20
    except OSError:  # not Linux: the peak so far, from the kernel's accounting
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return float(peak) / (2**20 if sys.platform == "darwin" else 2**10)


def _camera_fps_off(core: Any, events: list[Any]) -> float:
    """Raw frames/s of the bare MDA (a slot that only counts, as a minimal consumer)."""
    stamps: list[float] = []

    def count(*_: Any) -> None:
        stamps.append(time.perf_counter())

    core.mda.events.frameReady.connect(count)
    try:
        core.mda.run(events)
    finally:
        core.mda.events.frameReady.disconnect(count)
    return (len(stamps) - 1) / (stamps[-1] - stamps[0])


def _standalone_fps(core: Any, recs: dict[str, Any], n_frames: int, n_calls: int = 20) -> float:
    """Stacks/s of the channels' reconstructors on demo stacks, alternating, back to back."""
    from livesr.pipeline import ChannelReconstructor

    stacks: dict[str, Any] = {}
    for channel in recs:
        core.setConfig("Channel", channel)
        frames = []
        for i in range(n_frames):
            core.setProperty("Pattern", "State", i)
            core.snapImage()
            frames.append(core.getImage())
        stacks[channel] = np.stack(frames).astype(np.uint16)
    wrapped = {c: ChannelReconstructor(r) for c, r in recs.items()}
    for channel, rec in wrapped.items():
        rec.warmup()
        rec(stacks[channel], [])  # calibration / first-call compilation is not throughput
    t0 = time.perf_counter()
    for i in range(n_calls):
        channel = list(recs)[i % len(recs)]
        wrapped[channel](stacks[channel], [])
    return n_calls / (time.perf_counter() - t0)
