"""Train DFCAN on livesr's simulator (no download) and export the weights.

    python examples/train_simulated.py --frames 9 --minutes 30 --out runs/my-dfcan-sim

--frames 9 trains SIM mode (raw frames in), --frames 1 SISR (wide-field in). The defaults are a
small network that learns something useful on a laptop CPU in half an hour; pass --full for the
authors' DFCAN (4 groups x 4 FCABs, 64 channels, 128-px patches), which wants a GPU. Training
fields use seeds >= 1,000,000, so `livesr evaluate` (seeds < 1000) measures held-out fields.
Use the weights with ``livesr reconstruct --method <out>/model.safetensors``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from livesr.config import ModelConfig
from livesr.train import SimulatedDataConfig, TrainConfig, export_weights, train


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, choices=(1, 9), default=9)
    parser.add_argument("--minutes", type=float, default=30.0, help="wall-time budget")
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--full", action="store_true", help="the authors' full-size DFCAN")
    parser.add_argument("--out", type=Path, default=Path("runs/dfcan-simulated"))
    parser.add_argument("--field-size", type=int, default=128)
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)

    small = {"groups": 2, "blocks": 2, "width": 32, "size_psc": 64}
    config = TrainConfig(
        model=ModelConfig(in_frames=args.frames, scale=2, options={} if args.full else small),
        data=SimulatedDataConfig(field_size=args.field_size),
        out_dir=args.out,
        iterations=args.iterations,
        max_minutes=args.minutes,
        patch_size=128 if args.full else 64,
        lr=1e-4 if args.full else 3e-4,
        val_every=2000 if args.full else 250,
        val_patches=500 if args.full else 64,
        plateau_patience=10 if args.full else 4,
    )
    args_used = sys.argv[1:] if argv is None else argv
    result = train(config, resume=args.resume)
    print(f"step {result.step}: best validation NRMSE {result.best_nrmse:.4f}, "
          f"{result.patches_per_s:.1f} patches/s")  # fmt: skip
    return export_weights(
        result.best_checkpoint,
        args.out / "model.safetensors",
        description="DFCAN trained on livesr's simulated SIM data (examples/train_simulated.py)",
        training_command=f"python examples/train_simulated.py {' '.join(args_used)}",
    )


if __name__ == "__main__":
    print(f"weights: {main()}")
