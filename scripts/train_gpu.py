"""Train the physics-informed PIUNet on one CUDA GPU within a time budget (default 9 min).

Usage:
    python scripts/train_gpu.py OUT_DIR [--minutes 9] [--batch 128] [--width 20] [--workers N]

Same model, simulator, input and loss as the CPU run (`livesr.train._microscope_train`):
CPU worker processes simulate examples (randomised microscope, Wiener input via livesr's
numpy Wiener, so the input is exactly what inference builds), the GPU trains with bf16
autocast on large batches of 64x64 raw-grid crops. It measures patches/s in the first 30 s,
checkpoints every minute to OUT_DIR/checkpoint_pi.pt and, at the end, exports
OUT_DIR/wiener-denoiser.safetensors with its card (the exact command is recorded).

Not run in the session that wrote it (no GPU there): no GPU figure is claimed for it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path

import numpy as np


def _worker(seed: int, queue: mp.Queue, reuse: int) -> None:  # type: ignore[type-arg]
    os.environ["OMP_NUM_THREADS"] = "1"
    from livesr.train._microscope_train import make_example
    from livesr.train._microscopes import make_field

    rng = np.random.default_rng(seed)
    while True:
        field = make_field(rng)
        for _ in range(reuse):
            ex = make_example(rng, field)
            queue.put((ex.pi, ex.target))


def main() -> None:  # noqa: D103
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    ap.add_argument("out", type=Path)
    ap.add_argument("--minutes", type=float, default=9.0)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--width", type=int, default=20)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    ap.add_argument("--crops", type=int, default=8, help="crops per simulated example")
    ap.add_argument("--resume", action="store_true")
    ns = ap.parse_args()

    import torch

    from livesr.models._piunet import PIUNet
    from livesr.train._microscope_train import _loss, export_piunet

    if not torch.cuda.is_available():
        sys.exit("no CUDA device: this script is for a GPU (use the CPU trainer otherwise)")
    dev = torch.device("cuda")
    torch.backends.cudnn.benchmark = True
    ns.out.mkdir(parents=True, exist_ok=True)
    net = PIUNet(2, 1, ns.width).to(dev).to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(net.parameters(), lr=ns.lr, weight_decay=1e-4)
    ck = ns.out / "checkpoint_pi.pt"
    patches = 0
    if ns.resume and ck.exists():
        state = torch.load(ck, map_location=dev, weights_only=False)
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        patches = int(state["patches"])

    ctx = mp.get_context("spawn")
    queue: mp.Queue = ctx.Queue(maxsize=512)  # type: ignore[type-arg]
    procs = [
        ctx.Process(target=_worker, args=(1_000_000 + 7919 * i + patches, queue, 4), daemon=True)
        for i in range(ns.workers)
    ]
    for p in procs:
        p.start()
    budget = ns.minutes * 60.0
    start = time.perf_counter()
    ring_pi: list[np.ndarray] = []
    ring_tg: list[np.ndarray] = []
    ring_size = 2048
    rng = np.random.default_rng(0)
    crop = 64
    last_ck = start
    log = (ns.out / "log.jsonl").open("a")
    first_rate = None

    def save() -> None:
        tmp = ns.out / "checkpoint_pi.pt.tmp"
        torch.save(
            {"model": net.state_dict(), "optimizer": opt.state_dict(), "patches": patches,
             "width": ns.width, "variant": "pi"},
            tmp,
        )  # fmt: skip
        tmp.replace(ck)

    step = 0
    while time.perf_counter() - start < budget:
        while not queue.empty() or len(ring_pi) < ns.batch // ns.crops:
            pi, tg = queue.get()
            if len(ring_pi) < ring_size:
                ring_pi.append(pi)
                ring_tg.append(tg)
            else:
                i = int(rng.integers(ring_size))
                ring_pi[i], ring_tg[i] = pi, tg
        idx = rng.integers(0, len(ring_pi), ns.batch)
        xs, ts = [], []
        for i in idx:
            h = ring_pi[i].shape[-1] // 2
            y, x = (int(v) for v in rng.integers(0, h - crop + 1, 2))
            sl = (slice(None), slice(2 * y, 2 * (y + crop)), slice(2 * x, 2 * (x + crop)))
            k = int(rng.integers(4))
            xs.append(np.rot90(ring_pi[i][sl], k, axes=(-2, -1)))
            ts.append(np.rot90(ring_tg[i][sl], k, axes=(-2, -1)))
        x_t = torch.from_numpy(np.ascontiguousarray(np.stack(xs))).to(dev, non_blocking=True)
        t_t = torch.from_numpy(np.ascontiguousarray(np.stack(ts))).to(dev, non_blocking=True)
        frac = (time.perf_counter() - start) / budget
        for g in opt.param_groups:
            g["lr"] = ns.lr * 0.5 * (1 + np.cos(np.pi * min(frac, 1.0)))
        with torch.autocast("cuda", dtype=torch.bfloat16):
            pred = net(x_t.contiguous(memory_format=torch.channels_last))
        loss = _loss(pred.float(), t_t)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        patches += ns.batch
        step += 1
        now = time.perf_counter()
        if first_rate is None and now - start > 30:
            first_rate = patches / (now - start)
            print(f"first 30 s: {first_rate:.0f} patches/s", flush=True)
        if now - last_ck > 60:
            save()
            last_ck = now
            row = {"patches": patches, "loss": float(loss.detach()), "elapsed_s": now - start,
                   "patches_per_s": patches / (now - start), "ring": len(ring_pi)}  # fmt: skip
            log.write(json.dumps(row) + "\n")
            log.flush()
            print(row, flush=True)
    save()
    for p in procs:
        p.terminate()
    command = "python scripts/train_gpu.py " + " ".join(sys.argv[1:])
    path = export_piunet(
        ck, ns.out / "wiener-denoiser.safetensors", name="wiener-denoiser",
        training_command=command,
    )  # fmt: skip
    print(f"wrote {path} after {patches} patches in {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
