"""What a Dask worker builds to reconstruct a run: one `ReconstructorSpec` per channel.

A `StackReconstructor` holds a network or an ONNX/TensorRT session, which must not travel
through the scheduler. Workers get its `ReconstructorSpec` instead (a small, picklable pydantic
model) and build (once per worker thread, then cached) the same `StackReconstructor` the live
pipeline used: same weights (verified by hash), backend, device, precision, tiling and
normalisation, which is what makes reprocessed SR identical to live SR.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from livesr.config import BackendConfig, OpticsConfig, PatternConfig, ReconstructorSpec

if TYPE_CHECKING:
    from livesr.io import SRStore
    from livesr.reconstruct import StackReconstructor

__all__ = [
    "build_reconstructor",
    "cached_reconstructor",
    "set_torch_threads",
    "specs_for_model",
    "specs_from_store",
    "sr_name_for",
]


def set_torch_threads(n: int) -> None:
    """Set torch's intra-op threads of this process (nothing if torch is not installed)."""
    try:
        import torch
    except ImportError:
        return
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


def build_reconstructor(spec: ReconstructorSpec) -> StackReconstructor:
    """Build `spec`'s reconstructor (on a worker), with its CPU threads set first."""
    from livesr.reconstruct import StackReconstructor

    if spec.threads is not None and spec.sim is None:
        set_torch_threads(spec.threads)
    return StackReconstructor.from_spec(spec)


_local = threading.local()


def cached_reconstructor(spec: ReconstructorSpec) -> StackReconstructor:
    """The reconstructor for `spec` of the calling thread, built on first use.

    Reconstructors are not thread-safe, so each worker thread keeps its own, keyed by the
    spec's JSON (a spec holds dicts, so it is not hashable itself).
    """
    cache: dict[str, StackReconstructor] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    key = spec.model_dump_json()
    rec = cache.get(key)
    if rec is None:
        rec = cache[key] = build_reconstructor(spec)
    return rec


def specs_from_store(store: SRStore) -> dict[int, ReconstructorSpec]:
    """The spec of every channel the live run reconstructed, as the store recorded it.

    Raises
    ------
    ValueError
        If the run recorded no reconstructor.
    """
    recorded = store.reconstructor_specs("sr")
    specs = {c: recorded[ch] for c, ch in enumerate(store.channels) if ch in recorded}
    if not specs:
        raise ValueError(
            f"{store.path} records no live reconstructor: choose one with --model "
            "(a bundled name, a .safetensors path, or 'wiener')"
        )
    return specs


def _wiener_spec(store: SRStore, channel: str) -> ReconstructorSpec:
    """Wiener SIM for `channel` of `store`, with the live run's estimate when it made one."""
    live = store.reconstructor_specs("sr").get(channel)
    if live is not None and live.sim is not None:
        return live
    info = store.info
    config = info.get("config", {})
    pattern = info.get("pattern") or config.get("pattern")
    optics = info.get("optics") or config.get("optics")
    if pattern is None or optics is None:
        raise ValueError(
            f"{store.path} records no pattern/optics, which Wiener SIM needs; use a network "
            "model (--model NAME_OR_PATH)"
        )
    from livesr.reconstruct import StackReconstructor

    optics_cfg = OpticsConfig.model_validate(optics)
    rec = StackReconstructor.create(
        "wiener",
        "wiener",
        frame_shape=_frame_shape(store),
        pattern=PatternConfig.model_validate(pattern),
        optics=optics_cfg,
        channel=channel if channel in optics_cfg.emission_um else None,
    )
    assert rec.spec is not None  # Wiener SIM from configs always has one
    return rec.spec


def specs_for_model(
    store: SRStore, model: str | Path, settings: BackendConfig | None = None
) -> dict[int, ReconstructorSpec]:
    """One spec per channel of `store` for `model` (bundled name, path or ``"wiener"``).

    A network is loaded here once (its weights hash and card's normalisation go into the
    spec); the spec names a file by its absolute path, for workers in other directories.

    Raises
    ------
    FileNotFoundError
        If `model` is neither a file nor a bundled name.
    BackendUnavailableError
        If `settings` ask for a backend that cannot run here.
    """
    from livesr.reconstruct import StackReconstructor

    if str(model) == "wiener":
        return {c: _wiener_spec(store, ch) for c, ch in enumerate(store.channels)}
    info = store.info
    config = info.get("config", {})
    pattern = info.get("pattern") or config.get("pattern")
    optics = info.get("optics") or config.get("optics")
    specs: dict[int, ReconstructorSpec] = {}
    for c, channel in enumerate(store.channels):
        # Physics-informed models (and "auto") run Wiener first: they get the instrument.
        microscope = None
        if pattern is not None and optics is not None:
            optics_cfg = OpticsConfig.model_validate(optics)
            microscope = {
                "pattern": PatternConfig.model_validate(pattern),
                "optics": optics_cfg,
                "channel": channel if channel in optics_cfg.emission_um else None,
                "allow_nominal": True,
            }
        rec = StackReconstructor.create(
            model, settings or BackendConfig(), frame_shape=_frame_shape(store),
            microscope=microscope,
        )  # fmt: skip
        try:
            spec = rec.spec
        finally:
            rec.close()
        assert spec is not None  # built by name
        specs[c] = spec
    return specs


def _frame_shape(store: SRStore) -> tuple[int, int]:
    shape = store.info["frame_shape"]
    return int(shape[0]), int(shape[1])


def sr_name_for(model: str | Path) -> str:
    """SR image name for another model: ``"sr_"`` + a slug of its name or file stem."""
    stem = Path(str(model)).name.removesuffix(".safetensors")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "model"
    return f"sr_{slug}"
