"""Training on the randomised-microscope simulator: physics-informed (and raw-frame) PIUNet.

One data stream feeds one or both input variants, so the comparison is on exactly the same
patches. Data: a ring buffer of simulated examples (`make_example`), one new example per step,
random 64x64 raw-grid crops with the 8 dihedral flips (the physics is isotropic). Checkpoints
(`checkpoint_<variant>.pt`, atomic) and a JSON-lines log go to the run folder; `resume=True`
continues from the checkpoints. The same code runs on a CUDA GPU (`scripts/train_gpu.py`).
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from livesr.reconstruct._physics import physics_input, raw_input
from livesr.reconstruct.conventional import (
    SIMParameters,
    WienerReconstructor,
    repair_hot_pixels,
)

from ._checkpoint import load_checkpoint
from ._microscopes import SimField, draw_stack, make_field

__all__ = [
    "WIENER_INPUT_W",
    "Example",
    "export_piunet",
    "make_example",
    "perturb_parameters",
    "train_microscopes",
]

#: Fixed, slightly under-regularised Wiener parameter of the network input (networks.md 5.2).
WIENER_INPUT_W = 0.05


@dataclass
class Example:
    """One simulated stack as the networks see it (all scaled by the same ``(lo, scale)``)."""

    pi: NDArray[np.float32]  # (2, 2Y, 2X) Wiener + wide-field
    raw: NDArray[np.float32]  # (9, Y, X) raw frames
    target: NDArray[np.float32]  # (1, 2Y, 2X)
    photons: float


def perturb_parameters(params: SIMParameters, rng: np.random.Generator) -> SIMParameters:
    """What the estimator would report: nominal frame phases, errors in k, phase, modulation.

    The estimator fits one global phase per orientation (the per-frame errors stay), k to
    about 0.2 % and 0.1 deg, the phase to about 0.15 rad and the modulation to about 30 %.
    """
    nominal = np.tile(2 * np.pi * np.arange(params.n_phases) / params.n_phases, (3, 1))
    mean_err = np.angle(np.exp(1j * (params.frame_phases - nominal)).mean(axis=1))
    k = params.k_per_um * (1 + rng.normal(0, 0.002, (params.n_angles, 1)))
    rot = np.radians(rng.normal(0, 0.1, params.n_angles))
    c, s = np.cos(rot), np.sin(rot)
    k = np.stack([c * k[:, 0] + s * k[:, 1], -s * k[:, 0] + c * k[:, 1]], axis=1)
    psi = np.angle(params.factors[:, 0]) + mean_err + rng.normal(0, 0.15, params.n_angles)
    mod = np.abs(params.factors[:, 0]) * rng.uniform(0.7, 1.3, params.n_angles)
    factors = (np.clip(mod, 0.05, 1.0) * np.exp(1j * psi))[:, None]
    return SIMParameters(k, nominal, factors, params.pixel_size_um, params.shape, params.fits)


def make_example(
    rng: np.random.Generator, field: SimField, photons: float | None = None
) -> Example:
    """Draw a stack from `field`, repair it, run Wiener with estimator-like parameters."""
    stack = draw_stack(rng, field, photons)
    frames, _ = repair_hot_pixels(stack.raw)
    scope = field.microscope
    params = perturb_parameters(stack.params, rng)
    optics = scope.optics(na=scope.na * (1 + rng.uniform(-0.03, 0.03)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wiener = WienerReconstructor(
            scope.pattern(), optics, params=params, wiener=WIENER_INPUT_W, workers=1
        )(frames[None])[0, 0]
    pi, lo, sc = physics_input(wiener, frames)
    raw, _, _ = raw_input(frames)
    floor = stack.offset + stack.background / stack.gain
    target = ((stack.target + np.float32(floor - lo)) / np.float32(sc))[None]
    return Example(pi, raw, target.astype(np.float32), stack.photons)


def _crop(ex: Example, rng: np.random.Generator, crop: int) -> tuple[NDArray[np.float32], ...]:
    h, w = ex.raw.shape[-2:]
    y = int(rng.integers(0, h - crop + 1))
    x = int(rng.integers(0, w - crop + 1))
    pi = ex.pi[:, 2 * y : 2 * (y + crop), 2 * x : 2 * (x + crop)]
    raw = ex.raw[:, y : y + crop, x : x + crop]
    tg = ex.target[:, 2 * y : 2 * (y + crop), 2 * x : 2 * (x + crop)]
    k = int(rng.integers(0, 4))
    flip = bool(rng.integers(0, 2))
    out = []
    for a in (pi, raw, tg):
        a = np.rot90(a, k, axes=(-2, -1))
        if flip:
            a = a[..., ::-1]
        out.append(np.ascontiguousarray(a))
    return tuple(out)


def _loss(pred: Any, target: Any) -> Any:
    from ._losses import ssim

    mse = ((pred - target) ** 2).mean()
    top = target.flatten(1).amax(dim=1).clamp_min(1e-3)[:, None, None, None]
    return mse + 0.1 * (1.0 - ssim(pred / top, target / top))


def train_microscopes(
    out: str | Path,
    *,
    variants: tuple[str, ...] = ("pi", "raw"),
    patches: int = 100_000,
    compare_patches: int = 20_000,
    batch: int = 8,
    crop: int = 64,
    width: int = 20,
    buffer: int = 64,
    field_reuse: int = 4,
    lr: float = 1e-3,
    threads: int = 1,
    device: str = "cpu",
    seed: int = 0,
    checkpoint_every: int = 100,
    resume: bool = True,
    max_seconds: float | None = None,
) -> dict[str, Any]:
    """Train PIUNet variants ("pi", "raw") on one simulated stream; returns the last log row.

    The "raw" variant stops at `compare_patches` (the comparison budget); "pi" continues to
    `patches`. Learning rate: `lr`, halved at 50 % and 75 % of `patches`.
    """
    import torch

    from livesr.models._piunet import PIUNet

    torch.set_num_threads(threads)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    dev = torch.device(device)
    models: dict[str, Any] = {}
    opts: dict[str, Any] = {}
    done: dict[str, int] = {}
    for v in variants:
        net = PIUNet(9 if v == "raw" else 2, 2 if v == "raw" else 1, width, raw_input=v == "raw")
        net = net.to(dev)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        ck = folder / f"checkpoint_{v}.pt"
        done[v] = 0
        if resume and ck.exists():
            state = load_checkpoint(ck, dev)
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            done[v] = int(state["patches"])
            rng = np.random.default_rng(seed + done[v])
        models[v], opts[v] = net, opt
    limit = {v: (compare_patches if v == "raw" else patches) for v in variants}

    def save(v: str) -> None:
        tmp = folder / f"checkpoint_{v}.pt.tmp"
        torch.save(
            {
                "model": models[v].state_dict(),
                "optimizer": opts[v].state_dict(),
                "patches": done[v],
                "width": width,
                "variant": v,
            },
            tmp,
        )
        tmp.replace(folder / f"checkpoint_{v}.pt")
        if v == "raw" or done[v] in (compare_patches,):
            pass
        if done[v] >= compare_patches and not (folder / f"compare_{v}.pt").exists():
            torch.save(
                {"model": models[v].state_dict(), "patches": done[v], "width": width},
                folder / f"compare_{v}.pt",
            )

    field = make_field(rng)
    uses = 0
    ring: list[Example] = []
    t_gen = 0.0
    t0 = time.perf_counter()
    while len(ring) < buffer:
        if uses >= field_reuse:
            field, uses = make_field(rng), 0
        ring.append(make_example(rng, field))
        uses += 1
    log = (folder / "log.jsonl").open("a")
    step = 0
    row: dict[str, Any] = {}
    start = time.perf_counter()
    start_done = dict(done)
    while any(done[v] < limit[v] for v in variants):
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            break
        tg = time.perf_counter()
        if uses >= field_reuse:
            field, uses = make_field(rng), 0
        ring[step % buffer] = make_example(rng, field)
        uses += 1
        crops = [_crop(ring[int(i)], rng, crop) for i in rng.integers(0, buffer, batch)]
        t_gen += time.perf_counter() - tg
        target = torch.from_numpy(np.stack([c[2] for c in crops])).to(dev)
        for v in variants:
            if done[v] >= limit[v]:
                continue
            x = torch.from_numpy(np.stack([c[0] if v == "pi" else c[1] for c in crops])).to(dev)
            frac = done[v] / patches
            for g in opts[v].param_groups:
                g["lr"] = lr * (0.5 if frac > 0.5 else 1.0) * (0.5 if frac > 0.75 else 1.0)
            loss = _loss(models[v](x), target)
            opts[v].zero_grad(set_to_none=True)
            loss.backward()
            # One extreme example (a sparse, dim field) must not wreck the weights.
            torch.nn.utils.clip_grad_norm_(models[v].parameters(), 1.0)
            opts[v].step()
            done[v] += batch
            row[f"loss_{v}"] = float(loss.detach())
        step += 1
        if step % checkpoint_every == 0 or not any(done[v] < limit[v] for v in variants):
            for v in variants:
                save(v)
            elapsed = time.perf_counter() - start
            row.update(
                step=step,
                patches={v: done[v] for v in variants},
                patches_per_s=(
                    done["pi" if "pi" in done else variants[0]]
                    - start_done["pi" if "pi" in done else variants[0]]
                )
                / max(elapsed, 1e-9),
                data_fraction=t_gen / max(elapsed, 1e-9),
                elapsed_s=elapsed,
                time=time.strftime("%H:%M:%S"),
            )
            log.write(json.dumps(row) + "\n")
            log.flush()
    for v in variants:
        save(v)
    log.close()
    return row


def export_piunet(
    checkpoint: str | Path,
    path: str | Path,
    *,
    name: str | None = None,
    training_command: str = "",
    metrics: dict[str, Any] | None = None,
    auto_table: list[dict[str, float]] | None = None,
    description: str = "",
) -> Path:
    """A `train_microscopes` checkpoint as safetensors + card (data, ranges, command)."""
    from livesr import __version__
    from livesr.models import ModelCard, Normalisation, save_weights
    from livesr.models._piunet import PIUNet

    from ._microscopes import TRAINING_RANGES

    state = load_checkpoint(Path(checkpoint))
    raw = state.get("variant") == "raw"
    width = int(state["width"])
    net = PIUNet(9 if raw else 2, 2 if raw else 1, width, raw_input=raw)
    net.load_state_dict(state["model"])
    net.eval()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    card = ModelCard(
        name=name or path.name.removesuffix(".safetensors"),
        architecture="piunet",
        in_frames=net.in_frames,
        scale=net.scale,
        options={"width": width, "raw_input": raw},
        normalisation=Normalisation(method="none"),
        frame_order="angle-major, phase-minor"
        if raw
        else "[Wiener SR, wide-field] on the SR grid",
        training_data={
            "simulator": "livesr.train._microscopes: randomised microscopes, procedural specimens",
            "ranges": TRAINING_RANGES,
            "patches": int(state["patches"]),
            "patch_raw_px": 64,
            "target": "specimen x ideal OTF with support kc + |k0| (SIM passband), SR grid",
            "loss": "MSE + 0.1 (1 - SSIM)",
        },
        training_command=training_command,
        metrics=metrics or {},
        description=description,
        livesr_version=__version__,
        input="raw" if raw else "wiener+widefield",
        wiener_input=None if raw else WIENER_INPUT_W,
        auto_table=auto_table or [],
    )
    save_weights(net, path, card)
    return path


if __name__ == "__main__":  # pragma: no cover - background runs
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--patches", type=int, default=100_000)
    ap.add_argument("--compare-patches", type=int, default=20_000)
    ap.add_argument("--variants", default="pi,raw")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--width", type=int, default=20)
    ns = ap.parse_args()
    print(
        train_microscopes(
            ns.out,
            variants=tuple(ns.variants.split(",")),
            patches=ns.patches,
            compare_patches=ns.compare_patches,
            threads=ns.threads,
            batch=ns.batch,
            seed=ns.seed,
            width=ns.width,
        )
    )
    _ = math
