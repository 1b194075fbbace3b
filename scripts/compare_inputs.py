"""Held-out comparison of training checkpoints: physics-informed vs raw-frame input.

Usage: python scripts/compare_inputs.py RUN_DIR [--prefix compare_|checkpoint_] [--fields N]
Scores wf, RL, Wiener (auto and oracle-tuned) and both checkpoints on the held-out microscope
(`livesr.evaluate._heldout`) and prints the photometric tables.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

from livesr.evaluate._heldout import heldout_rows, heldout_summary, write_heldout_markdown
from livesr.models._piunet import PIUNet
from livesr.reconstruct._physics import raw_input
from livesr.reconstruct.conventional import repair_hot_pixels
from livesr.train._microscope_train import export_piunet


def raw_method(ckpt: Path):  # type: ignore[no-untyped-def]  # noqa: D103
    state = torch.load(ckpt, map_location="cpu", weights_only=False)
    net = PIUNet(9, 2, int(state["width"]), raw_input=True)
    net.load_state_dict(state["model"])
    net.eval()

    def run(raw, pattern, optics):  # type: ignore[no-untyped-def]
        frames, _ = repair_hot_pixels(raw)
        x, lo, sc = raw_input(frames)
        with torch.no_grad():
            y = net(torch.from_numpy(x[None]))[0, 0].numpy()
        return (y * sc + lo).astype(np.float32)

    return run


def main() -> None:  # noqa: D103
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("--prefix", default="compare_")
    ap.add_argument("--fields", type=int, default=1)
    ap.add_argument("--photons", default="2,5,10,20,50,200")
    ap.add_argument("--size", type=int, default=128)
    ns = ap.parse_args()
    torch.set_num_threads(1)
    pi_ckpt = ns.run / f"{ns.prefix}pi.pt"
    raw_ckpt = ns.run / f"{ns.prefix}raw.pt"
    extra = {}
    methods = ["wf", "rl", "wiener", "wiener-tuned"]
    if pi_ckpt.exists():
        state = torch.load(pi_ckpt, map_location="cpu", weights_only=False)
        state.setdefault("variant", "pi")
        torch.save(state, ns.run / "_tmp_pi.pt")
        path = export_piunet(ns.run / "_tmp_pi.pt", ns.run / "eval_pi.safetensors")
        methods.append(str(path))
        print("pi patches", state["patches"], file=sys.stderr)
    if raw_ckpt.exists():
        extra["raw-input"] = raw_method(raw_ckpt)
    photons = [float(p) for p in ns.photons.split(",")]
    rows = heldout_rows(methods, photons=photons, fields=ns.fields, size=ns.size, extra=extra)
    for r in rows:
        if r["method"].endswith(".safetensors"):
            r["method"] = "physics-input"
    summary = heldout_summary(rows)
    out = write_heldout_markdown(summary, ns.run / f"heldout_{ns.prefix.strip('_')}.md")
    (ns.run / f"heldout_{ns.prefix.strip('_')}.json").write_text(json.dumps(summary, indent=1))
    print(out.read_text())


if __name__ == "__main__":
    main()
