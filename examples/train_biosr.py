"""Train DFCAN on BioSR as downloaded (figshare 10.6084/m9.figshare.13264793).

    python examples/train_biosr.py /data/BioSR/Microtubules --frames 9 --out runs/biosr-mt

The folder is one structure of BioSR (``Cell_001`` ... ``Cell_050``). The authors' split is used:
cells 6-35 train, 1-5 validate; 36-50 stay untouched for testing. --frames 9 trains SIM mode,
--frames 1 SISR on the wide-field sum of the raw frames; --frames 25 --scale 3 --gt SIM_gt_a.mrc
trains nonlinear SIM on F-actin_Nonlinear. Defaults follow the authors (DFCAN 4 x 4, 64 channels,
128-px patches, Adam 1e-4, 200,000 iterations); --small/--minutes make a CPU-sized run.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from livesr.config import ModelConfig
from livesr.train import BioSRDataConfig, TrainConfig, export_weights, train


def main(argv: list[str] | None = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path, help="BioSR structure folder with Cell_NNN")
    parser.add_argument("--frames", type=int, default=9)
    parser.add_argument("--scale", type=int, default=2)
    parser.add_argument("--gt", default="SIM_gt.mrc")
    parser.add_argument("--levels", type=int, nargs="*", default=None)
    parser.add_argument("--train-cells", type=int, nargs="*", default=list(range(6, 36)))
    parser.add_argument("--val-cells", type=int, nargs="*", default=[1, 2, 3, 4, 5])
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--minutes", type=float, default=None, help="wall-time budget")
    parser.add_argument("--patch-size", type=int, default=128)
    parser.add_argument("--val-every", type=int, default=2000)
    parser.add_argument("--val-patches", type=int, default=500)
    parser.add_argument("--small", action="store_true", help="2 groups x 2 FCABs, 32 channels")
    parser.add_argument("--out", type=Path, default=Path("runs/dfcan-biosr"))
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args(argv)

    # The attention spectrum is resized to the patch size, as the authors' 128 for 128-px patches.
    options: dict[str, int] = {"size_psc": args.patch_size}
    if args.small:
        options.update(groups=2, blocks=2, width=32)
    config = TrainConfig(
        model=ModelConfig(in_frames=args.frames, scale=args.scale, options=options),
        data=BioSRDataConfig(
            root=args.root,
            levels=tuple(args.levels) if args.levels else None,
            train_cells=tuple(args.train_cells),
            val_cells=tuple(args.val_cells),
            gt=args.gt,
        ),
        out_dir=args.out,
        iterations=args.iterations,
        max_minutes=args.minutes,
        patch_size=args.patch_size,
        val_every=args.val_every,
        val_patches=args.val_patches,
    )
    args_used = sys.argv[1:] if argv is None else argv
    result = train(config, resume=args.resume)
    print(f"step {result.step}: best validation NRMSE {result.best_nrmse:.4f}")
    return export_weights(
        result.best_checkpoint,
        args.out / "model.safetensors",
        description=f"DFCAN trained on BioSR {args.root.name} (examples/train_biosr.py)",
        training_command=f"python examples/train_biosr.py {' '.join(args_used)}",
    )


if __name__ == "__main__":
    print(f"weights: {main()}")
