"""Training on the randomised-microscope simulator: physics-informed (and raw-frame) PIUNet.

One data stream feeds one or both input variants, so the comparison is on exactly the same
patches. Data: a ring buffer of simulated examples (`make_example`, `ExampleStream` in
`._microscope_examples`), one new example per step, random 64x64 raw-grid crops with the 8
dihedral flips (the physics is isotropic). Checkpoints (`checkpoint_<variant>.pt`, atomic) and
a JSON-lines log go to the run folder; `resume=True` continues from the checkpoints. The same
code runs on a CUDA GPU (`scripts/train_gpu.py`).

Threads: one training thread; torch uses `threads` intra-op threads.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._checkpoint import load_checkpoint
from ._microscope_examples import (
    WIENER_INPUT_W,
    Example,
    ExampleStream,
    make_example,
    perturb_parameters,
)

__all__ = [
    "WIENER_INPUT_W",
    "Example",
    "export_piunet",
    "make_example",
    "perturb_parameters",
    "train_microscopes",
]


def _loss(pred: Any, target: Any) -> Any:
    from ._losses import ssim

    mse = ((pred - target) ** 2).mean()
    top = target.flatten(1).amax(dim=1).clamp_min(1e-3)[:, None, None, None]
    return mse + 0.1 * (1.0 - ssim(pred / top, target / top))


@dataclass
class _Variant:
    """One PIUNet being trained ("pi": Wiener + wide-field input, "raw": the raw frames).

    Attributes
    ----------
    name : str
        "pi" or "raw".
    net, opt : torch.nn.Module, torch.optim.Optimizer
        The network and its Adam optimiser, on the training device.
    done : int
        Patches trained on so far (resumed from the checkpoint).
    limit : int
        Patches to train on in all.
    """

    name: str
    net: Any
    opt: Any
    done: int
    limit: int

    @property
    def running(self) -> bool:
        """Whether it still has patches to train on."""
        return self.done < self.limit

    def step(self, x: Any, target: Any, lr: float, patches: int) -> float:
        """One optimiser step on a batch; returns its loss.

        The learning rate is `lr`, halved at 50 % and 75 % of `patches`; `done` grows by the
        batch size.
        """
        import torch

        frac = self.done / patches
        for g in self.opt.param_groups:
            g["lr"] = lr * (0.5 if frac > 0.5 else 1.0) * (0.5 if frac > 0.75 else 1.0)
        loss = _loss(self.net(x), target)
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        # One extreme example (a sparse, dim field) must not wreck the weights.
        torch.nn.utils.clip_grad_norm_(self.net.parameters(), 1.0)
        self.opt.step()
        self.done += len(x)
        return float(loss.detach())

    def save(self, folder: Path, width: int, compare_patches: int) -> None:
        """Write ``checkpoint_<name>.pt`` atomically, and ``compare_<name>.pt`` once.

        The compare checkpoint keeps the weights at the comparison budget
        (`compare_patches`), written the first time `done` reaches it.
        """
        import torch

        tmp = folder / f"checkpoint_{self.name}.pt.tmp"
        torch.save(
            {
                "model": self.net.state_dict(),
                "optimizer": self.opt.state_dict(),
                "patches": self.done,
                "width": width,
                "variant": self.name,
            },
            tmp,
        )
        tmp.replace(folder / f"checkpoint_{self.name}.pt")
        compare = folder / f"compare_{self.name}.pt"
        if self.done >= compare_patches and not compare.exists():
            torch.save(
                {"model": self.net.state_dict(), "patches": self.done, "width": width}, compare
            )


def _open_variants(
    folder: Path,
    names: tuple[str, ...],
    limits: dict[str, int],
    *,
    width: int,
    lr: float,
    device: Any,
    resume: bool,
) -> tuple[list[_Variant], int | None]:
    """Build each variant's network and optimiser, resumed from its checkpoint if asked.

    Returns
    -------
    variants : list of _Variant
    resumed_at : int or None
        Patches done by the last variant resumed (the data stream is reseeded from it), or
        None when none was.
    """
    import torch

    from livesr.models._piunet import PIUNet

    variants = []
    resumed_at = None
    for v in names:
        net = PIUNet(9 if v == "raw" else 2, 2 if v == "raw" else 1, width, raw_input=v == "raw")
        net = net.to(device)
        opt = torch.optim.Adam(net.parameters(), lr=lr)
        ck = folder / f"checkpoint_{v}.pt"
        done = 0
        if resume and ck.exists():
            state = load_checkpoint(ck, device)
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["optimizer"])
            done = resumed_at = int(state["patches"])
        variants.append(_Variant(v, net, opt, done, limits[v]))
    return variants, resumed_at


def _progress(
    variants: list[_Variant], start_done: dict[str, int], elapsed: float, t_gen: float
) -> dict[str, Any]:
    """The log row's progress fields: patches, throughput, share of time spent on data."""
    done = {v.name: v.done for v in variants}
    # Throughput is the physics-informed variant's (it runs longest), else the first one's.
    lead = "pi" if "pi" in done else variants[0].name
    return {
        "patches": done,
        "patches_per_s": (done[lead] - start_done[lead]) / max(elapsed, 1e-9),
        "data_fraction": t_gen / max(elapsed, 1e-9),
        "elapsed_s": elapsed,
        "time": time.strftime("%H:%M:%S"),
    }


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

    torch.set_num_threads(threads)
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    dev = torch.device(device)
    limits = {v: (compare_patches if v == "raw" else patches) for v in variants}
    nets, resumed_at = _open_variants(
        folder, variants, limits, width=width, lr=lr, device=dev, resume=resume
    )
    rng = np.random.default_rng(seed if resumed_at is None else seed + resumed_at)
    stream = ExampleStream(rng, buffer, field_reuse)
    t_gen = 0.0
    t0 = time.perf_counter()
    stream.fill()
    log = (folder / "log.jsonl").open("a")
    step = 0
    row: dict[str, Any] = {}
    start = time.perf_counter()
    start_done = {v.name: v.done for v in nets}
    while any(v.running for v in nets):
        if max_seconds is not None and time.perf_counter() - t0 > max_seconds:
            break
        tg = time.perf_counter()
        crops = stream.crops(step, batch, crop)
        t_gen += time.perf_counter() - tg
        target = torch.from_numpy(np.stack([c[2] for c in crops])).to(dev)
        for v in nets:
            if v.running:
                x = torch.from_numpy(np.stack([c[0] if v.name == "pi" else c[1] for c in crops]))
                row[f"loss_{v.name}"] = v.step(x.to(dev), target, lr, patches)
        step += 1
        if step % checkpoint_every == 0 or not any(v.running for v in nets):
            for v in nets:
                v.save(folder, width, compare_patches)
            elapsed = time.perf_counter() - start
            row.update(step=step, **_progress(nets, start_done, elapsed, t_gen))
            log.write(json.dumps(row) + "\n")
            log.flush()
    for v in nets:
        v.save(folder, width, compare_patches)
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
