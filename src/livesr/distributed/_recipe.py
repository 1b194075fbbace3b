"""What a Dask worker builds to reconstruct a run: a small, picklable recipe per channel.

A `StackReconstructor` holds a network or an ONNX/TensorRT session, which must not travel
through the scheduler. Workers get a :class:`Recipe` instead and build (once per worker thread,
then cached) the same `StackReconstructor` the live pipeline used: same model, backend,
device, precision, tiling and normalisation, which is what makes reprocessed SR identical to
live SR.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from livesr.io import SRStore
    from livesr.reconstruct import StackReconstructor

__all__ = [
    "Recipe",
    "cached_reconstructor",
    "recipes_for_model",
    "recipes_from_store",
    "set_torch_threads",
    "sr_name_for",
]


@dataclass(frozen=True)
class Recipe:
    """How to build one channel's `StackReconstructor` on a worker.

    Attributes
    ----------
    model : str
        Bundled weights name, ``.safetensors`` path (absolute, visible to the workers), or
        ``"wiener"``.
    backend, device, precision : str
        As for `livesr.reconstruct.create_reconstructor`.
    tile_size : int or None
        Tiled reconstruction with this tile size (None: whole frames).
    tile_overlap : int
    p_low, p_high : float
        Percentiles of the `PercentileNormalizer`.
    clip : bool
        Whether the normalizer clips to [0, 1].
    frame_shape : (Y, X) or None
        Raw frame size, so compiled backends build for it.
    wiener : str or None
        JSON of the Wiener options (pattern, optics, channel) for ``model="wiener"``.
    threads : int or None
        torch intra-op threads to use on the worker (None: leave the process setting).
    """

    model: str
    backend: str = "auto"
    device: str = "auto"
    precision: str = "fp32"
    tile_size: int | None = None
    tile_overlap: int = 32
    p_low: float = 0.0
    p_high: float = 100.0
    clip: bool = True
    frame_shape: tuple[int, int] | None = None
    wiener: str | None = None
    threads: int | None = None

    def build(self) -> StackReconstructor:
        """Build the reconstructor (on the worker)."""
        from livesr.config import OpticsConfig, PatternConfig
        from livesr.reconstruct import PercentileNormalizer, StackReconstructor

        if self.threads is not None:
            set_torch_threads(self.threads)
        if self.model == "wiener":
            from livesr.reconstruct import SIMParameters

            opts = json.loads(self.wiener or "{}")
            recorded = opts.get("sim_parameters")
            return StackReconstructor.create(
                "wiener",
                "wiener",
                frame_shape=self.frame_shape,
                pattern=PatternConfig.model_validate(opts["pattern"]),
                optics=OpticsConfig.model_validate(opts["optics"]),
                channel=opts.get("channel"),
                # The live run's estimate, so reprocessed SR equals the live SR.
                params=None if recorded is None else SIMParameters.from_dict(recorded),
                wiener=None if recorded is None else recorded.get("wiener"),
            )
        normalizer = PercentileNormalizer(self.p_low, self.p_high, clip=self.clip)
        return StackReconstructor.create(
            self.model,
            self.backend,
            device=self.device,
            precision=self.precision,
            frame_shape=self.frame_shape,
            tile_size=self.tile_size,
            tile_overlap=self.tile_overlap,
            normalizer=normalizer,
        )


def set_torch_threads(n: int) -> None:
    """Set torch's intra-op threads of this process (nothing if torch is not installed)."""
    try:
        import torch
    except ImportError:
        return
    if torch.get_num_threads() != n:
        torch.set_num_threads(n)


_local = threading.local()


def cached_reconstructor(recipe: Recipe) -> StackReconstructor:
    """The reconstructor for `recipe` of the calling thread, built on first use.

    Reconstructors are not thread-safe, so each worker thread keeps its own.
    """
    cache: dict[Recipe, StackReconstructor] | None = getattr(_local, "cache", None)
    if cache is None:
        cache = _local.cache = {}
    rec = cache.get(recipe)
    if rec is None:
        rec = cache[recipe] = recipe.build()
    return rec


def _wiener_options(store: SRStore, channel: str) -> str:
    info = store.info
    config = info.get("config", {})
    pattern = info.get("pattern") or config.get("pattern")
    optics = info.get("optics") or config.get("optics")
    if pattern is None or optics is None:
        raise ValueError(
            f"{store.path} records no pattern/optics, which Wiener SIM needs; use a network "
            "model (--model NAME_OR_PATH)"
        )
    channel_name = channel if channel in optics.get("emission_um", {}) else None
    live = info.get("sr_images", {}).get("sr", {}).get("provenance", {}).get(channel, {})
    recorded = live.get("sim_parameters") if live.get("backend") == "wiener" else None
    return json.dumps(
        {
            "pattern": pattern,
            "optics": optics,
            "channel": channel_name,
            "sim_parameters": recorded,
        }
    )


def recipes_from_store(store: SRStore) -> dict[int, Recipe]:
    """The recipe of every channel the live run reconstructed, from the store's attributes.

    Uses the recorded model, backend, device, precision, tiling and normalisation, so the
    result is what the live pipeline wrote (or would have written) into ``sr``.

    Raises
    ------
    ValueError
        If the run recorded no reconstructor, or one whose weights cannot be found here.
    """
    from livesr.models import resolve_weights

    info = store.info
    used: dict[str, Any] = info.get("reconstructors") or {}
    provenance: dict[str, Any] = info.get("sr_images", {}).get("sr", {}).get("provenance", {})
    frame_shape = (int(info["frame_shape"][0]), int(info["frame_shape"][1]))
    recipes: dict[int, Recipe] = {}
    for c, channel in enumerate(store.channels):
        rec = used.get(channel)
        if not rec:
            continue
        prov = provenance.get(channel, {})
        if rec.get("backend") == "wiener" or rec.get("name") == "wiener":
            wopts = _wiener_options(store, channel)
            recipes[c] = Recipe("wiener", "wiener", frame_shape=frame_shape, wiener=wopts)
            continue
        name = str(rec.get("name"))
        try:
            weights = str(resolve_weights(name))
        except FileNotFoundError:
            raise ValueError(
                f"the live run used model {name!r} for channel {channel!r}, which is neither "
                "bundled nor a file here: pass --model with the path of its .safetensors"
            ) from None
        tiling = prov.get("tiling") or {}
        norm = prov.get("normalization") or {}
        norm = norm if isinstance(norm, dict) else {}
        recipes[c] = Recipe(
            weights,
            backend=str(rec.get("backend", "auto")),
            device=str(prov.get("device", "auto")),
            precision=str(prov.get("precision", "fp32")),
            tile_size=int(tiling["tile"][0]) if tiling.get("tile") else None,
            tile_overlap=int(tiling.get("overlap", 32)),
            p_low=float(norm.get("p_low", 0.0)),
            p_high=float(norm.get("p_high", 100.0)),
            clip=bool(norm.get("clip", True)),
            frame_shape=frame_shape,
        )
    if not recipes:
        raise ValueError(
            f"{store.path} records no live reconstructor: choose one with --model "
            "(a bundled name, a .safetensors path, or 'wiener')"
        )
    return recipes


def recipes_for_model(
    store: SRStore,
    model: str | Path,
    *,
    backend: str = "auto",
    device: str = "auto",
    precision: str = "fp32",
    tile_size: int | None = None,
    tile_overlap: int = 32,
) -> dict[int, Recipe]:
    """One recipe per channel of `store` for `model` (bundled name, path or ``"wiener"``)."""
    frame_shape = (int(store.info["frame_shape"][0]), int(store.info["frame_shape"][1]))
    recipes: dict[int, Recipe] = {}
    for c, channel in enumerate(store.channels):
        if str(model) == "wiener":
            wopts = _wiener_options(store, channel)
            recipes[c] = Recipe("wiener", "wiener", frame_shape=frame_shape, wiener=wopts)
            continue
        path = Path(model)
        spec = str(path.resolve()) if path.exists() else str(model)
        recipes[c] = Recipe(
            spec,
            backend=backend,
            device=device,
            precision=precision,
            tile_size=tile_size,
            tile_overlap=tile_overlap,
            frame_shape=frame_shape,
        )
    return recipes


def sr_name_for(model: str | Path) -> str:
    """SR image name for another model: ``"sr_"`` + a slug of its name or file stem."""
    stem = Path(str(model)).name.removesuffix(".safetensors")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "model"
    return f"sr_{slug}"
