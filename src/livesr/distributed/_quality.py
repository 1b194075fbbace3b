"""Client side of reprocessing's quality records: the arrays, the setup, the summary.

Every reprocessed SR frame gets the record and error map a live run's quality thread gives
its frames (`livesr.pipeline.QualityWorker`, run by the workers: `reconstruct_stack`), in the
same arrays of the SR image written (``<p>/<name>_qc/*``, ``<p>/<name>_qc_map``). The client
makes those arrays cover every time point before the workers write maps, records the values
the tasks return, and sums them up per channel, as the live run's summary does.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from livesr._logger import logger

from ._stack_task import QCSetup

if TYPE_CHECKING:
    from livesr.io import SRStore, StackKey

__all__ = ["ChannelQuality", "QualityTally", "prepare_quality"]


def _run_config(store: SRStore) -> Any:
    """The run's `PipelineConfig` as recorded (None: the store records no optics/pattern)."""
    from pydantic import ValidationError

    from livesr.config import PipelineConfig

    info = store.info
    recorded = info.get("config")
    try:
        if recorded is not None:
            return PipelineConfig.model_validate(recorded)
        if info.get("optics") is not None and info.get("pattern") is not None:
            return PipelineConfig.model_validate(
                {"optics": info["optics"], "pattern": info["pattern"]}
            )
    except ValidationError as exc:
        logger.warning("%s: its recorded config does not validate (%s)", store.path, exc)
    return None


def prepare_quality(store: SRStore, name: str, scale: int) -> QCSetup | None:
    """Make `name`'s quality arrays exist and cover every time point; the workers' setup.

    Call on the client before workers write maps (a worker never resizes an array).
    Returns None, saying why, when the store records no optics and pattern to check with.
    """
    config = _run_config(store)
    if config is None:
        logger.warning(
            "%s records no optics/pattern: the reprocessed SR frames get no quality records",
            store.path,
        )
        return None
    pattern = store.info.get("pattern") or {}
    store.add_quality(name, n_angles=int(pattern.get("n_angles", config.pattern.n_angles)))
    n_t = store.n_timepoints
    for p in range(store.n_positions):
        for array_name in store.quality_array_names(name, p):
            array: Any = store.group[array_name]
            if array.shape[0] != n_t:
                array.resize((n_t, *array.shape[1:]))
    shape = store.info["frame_shape"]
    return QCSetup(config, tuple(store.channels), (int(shape[0]), int(shape[1])), int(scale))


@dataclass(frozen=True)
class ChannelQuality:
    """One channel's quality records of a reprocessing call, summed up.

    Attributes
    ----------
    channel : str
    checked, failed : int
        Frames given a record, and checks that raised (those frames have SR, no record).
    levels : dict of str -> int
        Frames per traffic light (``"ok"``, ``"warn"``, ``"bad"``;
        `livesr.pipeline.QUALITY_THRESHOLDS`).
    rsp, chi2_max, out_of_band : float
        Medians over the checked frames (NaN when none was measured).
    qc_ms : float
        Mean time of one check.
    """

    channel: str
    checked: int = 0
    failed: int = 0
    levels: dict[str, int] = field(default_factory=dict)
    rsp: float = math.nan
    chi2_max: float = math.nan
    out_of_band: float = math.nan
    qc_ms: float = math.nan

    @property
    def flagged(self) -> int:
        """Frames whose light is not "ok"."""
        return self.levels.get("warn", 0) + self.levels.get("bad", 0)

    def __str__(self) -> str:
        lights = ", ".join(f"{self.levels.get(lv, 0)} {lv}" for lv in ("ok", "warn", "bad"))
        return (
            f"quality {self.channel}: {self.checked} checked ({lights}), {self.failed} failed; "
            f"median rsp {self.rsp:.3f}, chi2 {self.chi2_max:.2f} (worst orientation), "
            f"out-of-band {100 * self.out_of_band:.1f} %; {self.qc_ms:.0f} ms per check"
        )


class QualityTally:
    """Collects the records the tasks return (client thread) and sums them up per channel."""

    def __init__(self, channels: tuple[str, ...]) -> None:
        self.channels = channels
        self._values: dict[int, list[dict[str, Any]]] = {}
        self._failed: Counter[int] = Counter()
        self.errors: list[str] = []

    def add(self, key: StackKey, values: dict[str, Any] | None, error: str | None) -> None:
        """Count stack `key`'s record (or its failed check)."""
        if values is not None:
            self._values.setdefault(key.c, []).append(values)
        elif error is not None:
            self._failed[key.c] += 1
            logger.warning("quality check of reprocessed SR frame %s failed: %s", key, error)
            if len(self.errors) < 5:
                self.errors.append(f"quality check of {key} failed: {error}")

    def summaries(self) -> tuple[ChannelQuality, ...]:
        """Per channel with a record or a failed check, in channel order."""
        out = []
        for c in sorted({*self._values, *self._failed}):
            rows = self._values.get(c, [])
            levels = Counter(str(r["level"]) for r in rows)
            quality = ChannelQuality(
                self.channels[c], len(rows), self._failed[c],
                {lv: levels[lv] for lv in ("ok", "warn", "bad") if levels[lv]},
                _median(rows, "rsp"), _median(rows, "chi2_max"),
                _median(rows, "out_of_band"), _mean(rows, "qc_ms"),
            )  # fmt: skip
            out.append(quality)
        return tuple(out)


def _finite(rows: list[dict[str, Any]], name: str) -> list[float]:
    values = [float(r[name]) for r in rows if r.get(name) is not None]
    return [v for v in values if math.isfinite(v)]


def _median(rows: list[dict[str, Any]], name: str) -> float:
    values = _finite(rows, name)
    return float(np.median(values)) if values else math.nan


def _mean(rows: list[dict[str, Any]], name: str) -> float:
    values = _finite(rows, name)
    return float(np.mean(values)) if values else math.nan
