"""DFCAN and DFGAN training loops (single process, or DDP under ``torchrun``).

One function, `train`, runs either loop: DFCAN (MSE + w(1 - SSIM), Adam, halve the rate on a
validation-NRMSE plateau) or, for ``model.architecture == "dfgan"``, DFGAN (one discriminator step
per `g_steps_per_d_step` generator steps, ``adversarial_weight`` x BCE). Mixed precision runs on
CUDA only. Under ``torchrun`` (``WORLD_SIZE`` in the environment) each process trains on its own
patches and DDP averages the gradients; rank 0 logs, shows progress and writes checkpoints.
Everything runs on the calling thread. The steps themselves are in `._steps`, the DDP
collectives in `._ddp`.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from livesr._logger import logger

from ._checkpoint import CsvLog, load_checkpoint, save_checkpoint
from ._data import make_sources
from ._ddp import Dist, any_rank, gather_sampler_states, init_distributed
from ._losses import batch_nrmse
from ._progress import TrainProgress
from ._sources import PatchSampler
from ._steps import Nets, Stepper, build_nets

if TYPE_CHECKING:
    import torch

    from ._config import TrainConfig

__all__ = ["TrainResult", "train"]


@dataclass(frozen=True)
class TrainResult:
    """What a run produced.

    Attributes
    ----------
    out_dir : Path
    step : int
        Generator steps done in total (over all resumes).
    best_nrmse : float
        Best mean validation NRMSE (the ``best.pt`` checkpoint).
    patches_per_s : float
        Training throughput of this session, all processes together, validation excluded.
    elapsed_s : float
        Wall time over all sessions of the run.
    finished : bool
        False when `max_minutes` stopped the run before `iterations`.
    """

    out_dir: Path
    step: int
    best_nrmse: float
    patches_per_s: float
    elapsed_s: float
    finished: bool

    @property
    def best_checkpoint(self) -> Path:
        """Path of the best checkpoint."""
        return self.out_dir / "best.pt"


def _device(config: TrainConfig, local_rank: int) -> torch.device:
    import torch

    if config.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was requested but torch sees no CUDA GPU; use 'auto'")
    if config.device == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", local_rank)


def _validate(
    model: torch.nn.Module, x: np.ndarray, y: np.ndarray, batch: int, device: torch.device
) -> float:
    import torch

    model.eval()
    scores = []
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = torch.from_numpy(x[i : i + batch]).to(device)
            yb = torch.from_numpy(y[i : i + batch]).to(device)
            scores.append(batch_nrmse(model(xb), yb).cpu())
    model.train()
    return float(torch.cat(scores).mean())


@dataclass
class _Meter:
    """Running figures: losses since the last validation, throughput over this session."""

    loss_sum: float = 0.0
    n_loss: int = 0
    d_loss_sum: float = 0.0
    n_d: int = 0
    trained: int = 0
    train_time: float = 0.0

    def add(self, loss: float, patches: int, seconds: float) -> None:
        self.loss_sum, self.n_loss = self.loss_sum + loss, self.n_loss + 1
        self.trained += patches
        self.train_time += seconds

    def add_d(self, d_loss: float) -> None:
        self.d_loss_sum, self.n_d = self.d_loss_sum + d_loss, self.n_d + 1

    def losses(self) -> dict[str, float | None]:
        """Mean losses since the last call (the log's loss columns); resets the sums."""
        row = {"loss": self.loss_sum / max(self.n_loss, 1),
               "d_loss": self.d_loss_sum / self.n_d if self.n_d else None}  # fmt: skip
        self.loss_sum = self.d_loss_sum = 0.0
        self.n_loss = self.n_d = 0
        return row

    @property
    def patches_per_s(self) -> float:
        return self.trained / max(self.train_time, 1e-9)


@dataclass
class _Run:
    """One training session's fixed parts; rank 0 alone has a `log` and writes files."""

    config: TrainConfig
    out: Path
    nets: Nets
    sampler: PatchSampler
    val_x: np.ndarray
    val_y: np.ndarray
    dist: Dist
    device: torch.device
    log: CsvLog | None

    def resume(self) -> tuple[int, float, float]:
        """Load ``latest.pt`` into networks, sampler and torch's RNG; (step, best, elapsed_s)."""
        import torch

        state = load_checkpoint(self.out / "latest.pt", self.device)
        self.nets.load_state_dict(state)
        self.sampler.load_state_dict(state["sampler"][self.dist.rank])
        torch.set_rng_state(state["torch_rng"])
        return state["step"], state["best_nrmse"], state["elapsed_s"]

    def validate(self) -> float:
        """Validation NRMSE of the network on the fixed validation patches."""
        return _validate(self.nets.model, self.val_x, self.val_y, 2 * self.config.batch_size,
                         self.device)  # fmt: skip

    def save(
        self, meter: _Meter, *, step: int, val: float, best: float, improved: bool, start: float,
        elapsed0: float,
    ) -> None:  # fmt: skip
        """After a validation: ``latest.pt``, ``best.pt`` when `improved`, one log row."""
        import torch

        samplers = gather_sampler_states(self.sampler, self.dist)
        elapsed = elapsed0 + time.perf_counter() - start
        losses = meter.losses()
        if self.log is None:
            return
        state = {**self.nets.state_dict(), "step": step, "best_nrmse": best, "val_nrmse": val,
                 "elapsed_s": elapsed, "sampler": samplers, "torch_rng": torch.get_rng_state(),
                 "config": self.config.model_dump(mode="json")}  # fmt: skip
        save_checkpoint(self.out / "latest.pt", state)
        if improved:
            save_checkpoint(self.out / "best.pt", state)
        self.log.write({
            "step": step, **losses, "lr": self.nets.opt.param_groups[0]["lr"], "val_nrmse": val,
            "best_nrmse": best, "patches_per_s": meter.patches_per_s, "elapsed_s": elapsed,
        })  # fmt: skip


def _loop(run: _Run, step: int, best: float, elapsed0: float) -> TrainResult:
    """Train from `step` to ``config.iterations`` (or the time budget), validating as set."""
    config, dist = run.config, run.dist
    stepper = Stepper(config, run.nets, run.sampler, dist, run.device)
    meter = _Meter()
    start = time.perf_counter()
    stopped_early = False
    progress = TrainProgress(config.iterations, step, enabled=dist.rank == 0 and config.progress)
    with progress:
        while step < config.iterations:
            t0 = time.perf_counter()
            if stepper.wants_d_step(step):
                meter.add_d(stepper.discriminator())
            loss_value = stepper.generator()
            step += 1
            meter.add(loss_value, config.batch_size * dist.world, time.perf_counter() - t0)
            over_budget = config.max_minutes is not None and (
                elapsed0 + time.perf_counter() - start > 60 * config.max_minutes
            )
            stop = any_rank(over_budget, dist, run.device)
            progress.advance(step, loss=loss_value)
            if step % config.val_every and step < config.iterations and not stop:
                continue
            val = run.validate()
            run.nets.schedule(val)
            improved = val < best
            best = min(best, val)
            run.save(meter, step=step, val=val, best=best, improved=improved, start=start,
                     elapsed0=elapsed0)  # fmt: skip
            progress.validated(val, best)
            if stop:
                stopped_early = step < config.iterations
                break
    elapsed = elapsed0 + time.perf_counter() - start
    if dist.active:
        import torch.distributed as tdist

        tdist.barrier()
    return TrainResult(run.out, step, best, meter.patches_per_s, elapsed, not stopped_early)


def train(config: TrainConfig, *, resume: bool = False) -> TrainResult:
    """Train DFCAN or DFGAN as `config` says; checkpoints and log go to ``config.out_dir``.

    Parameters
    ----------
    config : TrainConfig
        The run: model, data, schedule, output folder.
    resume : bool
        Continue from ``out_dir/latest.pt`` (weights, optimisers, schedulers, step, sampler and
        RNG states), so the result equals an uninterrupted run. Starts fresh when absent.

    Returns
    -------
    TrainResult

    Notes
    -----
    Writes ``config.yaml``, ``latest.pt`` (every validation), ``best.pt`` (on improvement) and
    ``log.csv`` under ``out_dir``. Blocks the calling thread until done.
    """
    import torch

    dist = init_distributed("cuda" if torch.cuda.is_available() else "cpu")
    device = _device(config, dist.local_rank)
    if config.threads is not None and device.type == "cpu":
        torch.set_num_threads(config.threads)
    main = dist.rank == 0
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)
    nets = build_nets(config, device)
    train_src, val_src = make_sources(config)
    sampler = PatchSampler(train_src, config.patch_size, config.percentiles,
                           seed=config.seed + 7919 * dist.rank)  # fmt: skip
    # Every rank validates on the same fixed patches so plateau decisions agree.
    val_x, val_y = PatchSampler(
        val_src, config.patch_size, config.percentiles, seed=config.seed + 104_729
    ).batch(config.val_patches, train=False)
    log = CsvLog(out / "log.csv") if main else None
    run = _Run(config, out, nets, sampler, val_x, val_y, dist, device, log)

    step, best, elapsed0 = 0, math.inf, 0.0
    if resume and (out / "latest.pt").is_file():
        step, best, elapsed0 = run.resume()
        logger.info("resumed %s at step %d (best val NRMSE %.4f)", out, step, best)
    elif main:
        config.to_yaml(out / "config.yaml")
    if log is not None and resume:
        log.truncate_after(step)
    return _loop(run, step, best, elapsed0)
