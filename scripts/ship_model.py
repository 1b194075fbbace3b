"""Evaluate a physics-informed checkpoint on the held-out microscope and bundle it.

Usage:
    python scripts/ship_model.py CHECKPOINT [--name wiener-denoiser] [--fields 2]
        [--command "the training command"] [--bundle]

1. Exports the checkpoint (safetensors + card) to runs/ship/NAME.safetensors.
2. Runs the held-out evaluation (`livesr.evaluate._heldout`: NA 1.2, 600 nm, 80 nm, k0 0.8,
   angles 23/83/143 deg; livesr's simulator and structures) at 2-200 photons for wf, RL,
   Wiener (automatic), Wiener tuned per stack against the ground truth, and the model.
3. Builds the ``--method auto`` table (per level: measured signal, network and Wiener corr)
   and the gate (network corr above RL, Wiener and tuned Wiener at 5, 10 and 20 photons),
   re-exports with both in the card, writes runs/ship/heldout.md/json.
4. ``--bundle``: copies the weights into livesr/models/weights and exports its ONNX graph.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np

from livesr.evaluate import write_csv
from livesr.evaluate._heldout import heldout_rows, heldout_summary, write_heldout_markdown
from livesr.train._microscope_train import export_piunet

GATE_LEVELS = (5.0, 10.0, 20.0)


def main() -> None:  # noqa: D103
    ap = argparse.ArgumentParser()
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("--name", default="wiener-denoiser")
    ap.add_argument("--fields", type=int, default=2)
    ap.add_argument("--photons", default="2,5,10,20,50,200")
    ap.add_argument("--command", default="")
    ap.add_argument("--out", type=Path, default=Path("runs/ship"))
    ap.add_argument("--bundle", action="store_true")
    ns = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    ns.out.mkdir(parents=True, exist_ok=True)
    path = export_piunet(ns.checkpoint, ns.out / f"{ns.name}.safetensors", name=ns.name)
    photons = [float(p) for p in ns.photons.split(",")]
    rows = heldout_rows(
        ("wf", "rl", "wiener", "wiener-tuned", str(path)), photons=photons, fields=ns.fields
    )
    for r in rows:
        if r["method"] == str(path):
            r["method"] = ns.name
    write_csv(rows, ns.out / "heldout.csv")
    summary = heldout_summary(rows)
    write_heldout_markdown(summary, ns.out / "heldout.md")
    by = {(s["photons"], s["method"]): s for s in summary}
    table = [
        {
            "photons": p,
            "measured": round(by[(p, ns.name)]["measured_photons"], 2),
            "network": round(by[(p, ns.name)]["corr"], 4),
            "wiener": round(by[(p, "wiener")]["corr"], 4),
        }
        for p in photons
    ]
    gate = {
        f"{p:g}": {
            m: round(by[(p, m)]["corr"], 4)
            for m in ("wf", "rl", "wiener", "wiener-tuned", ns.name)
        }
        for p in GATE_LEVELS
        if (p, ns.name) in by
    }
    passed = all(
        g[ns.name] > max(g["rl"], g["wiener"], g["wiener-tuned"]) for g in gate.values()
    ) and len(gate) == len(GATE_LEVELS)
    metrics = {
        "heldout": "NA 1.2, 600 nm, 80 nm px, k0 0.8 kc, angles 23/83/143 deg; livesr simulator",
        "heldout_corr": gate,
        "heldout_table": [
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in s.items()}
            for s in summary
        ],
        "gate_beats_wiener_and_rl_at_5_10_20": passed,
    }
    state = torch.load(ns.checkpoint, map_location="cpu", weights_only=False)
    path = export_piunet(
        ns.checkpoint,
        ns.out / f"{ns.name}.safetensors",
        name=ns.name,
        training_command=ns.command,
        metrics=metrics,
        auto_table=table,
        description=(
            "Physics-informed SIM denoiser: Wiener SIM (estimated pattern, w = 0.05) plus "
            "wide-field in, a ~260k-parameter residual U-Net, trained on "
            f"{int(state['patches'])} patches of randomised microscopes. "
            + ("Passed" if passed else "Did NOT pass")
            + " the held-out gate (beat RL and Wiener at 5, 10 and 20 photons)."
        ),
    )
    (ns.out / "heldout.json").write_text(json.dumps({"table": table, "gate": gate,
                                                      "passed": passed}, indent=1))  # fmt: skip
    print((ns.out / "heldout.md").read_text())
    print(json.dumps({"auto_table": table, "gate": gate, "passed": passed}, indent=1))
    if ns.bundle:
        from livesr.models import WEIGHTS_DIR
        from livesr.reconstruct.runtimes import export_bundled_graphs

        for suffix in (".safetensors", ".card.json"):
            src = path.with_name(path.name.removesuffix(".safetensors") + suffix)
            if src.exists():
                shutil.copy(src, WEIGHTS_DIR / src.name)
        print(export_bundled_graphs([ns.name]))
    _ = np


if __name__ == "__main__":
    main()
