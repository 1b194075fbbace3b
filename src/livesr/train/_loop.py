"""DFCAN and DFGAN training loops (single process, or DDP under ``torchrun``).

One function, `train`, runs either loop: DFCAN (MSE + w(1 - SSIM), Adam, halve the rate on a
validation-NRMSE plateau) or, for ``model.architecture == "dfgan"``, DFGAN (one discriminator step
per `g_steps_per_d_step` generator steps, ``adversarial_weight`` x BCE). Mixed precision runs on
CUDA only. Under ``torchrun`` (``WORLD_SIZE`` in the environment) each process trains on its own
patches and DDP averages the gradients; rank 0 logs, shows progress and writes checkpoints.
Everything runs on the calling thread.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from livesr._logger import logger

from ._checkpoint import CsvLog, load_checkpoint, save_checkpoint
from ._data import make_sources
from ._losses import batch_nrmse, mse_ssim_loss
from ._progress import TrainProgress
from ._sources import PatchSampler

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


@dataclass
class _Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0
    active: bool = False


def _init_distributed(device_kind: str) -> _Dist:
    # torchrun sets WORLD_SIZE/RANK/LOCAL_RANK/MASTER_ADDR/MASTER_PORT; plain runs set none.
    if "WORLD_SIZE" not in os.environ or "RANK" not in os.environ:
        return _Dist()
    import torch.distributed as dist

    if not dist.is_initialized():
        dist.init_process_group("nccl" if device_kind == "cuda" else "gloo")
    return _Dist(dist.get_rank(), dist.get_world_size(),
                 int(os.environ.get("LOCAL_RANK", "0")), True)  # fmt: skip


def _device(config: TrainConfig, local_rank: int) -> torch.device:
    import torch

    if config.device == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was requested but torch sees no CUDA GPU; use 'auto'")
    if config.device == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda", local_rank)


def _bce(prob: torch.Tensor, label: float) -> torch.Tensor:
    import torch
    import torch.nn.functional as F

    # BCE on probabilities is unsafe under autocast; run it in fp32, clamped away from 0/1.
    p = prob.float().clamp(1e-7, 1 - 1e-7)
    return F.binary_cross_entropy(p, torch.full_like(p, label))


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


def build_networks(config: TrainConfig) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """The network (generator) and, for DFGAN, the discriminator."""
    from livesr.models import build_model

    model = build_model(config.model)
    if not config.is_gan:
        return model, None
    from livesr.models import DFGANDiscriminator

    return model, DFGANDiscriminator(**config.discriminator)


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

    dist = _init_distributed("cuda" if torch.cuda.is_available() else "cpu")
    device = _device(config, dist.local_rank)
    if config.threads is not None and device.type == "cpu":
        torch.set_num_threads(config.threads)
    use_amp = config.amp and device.type == "cuda"
    main = dist.rank == 0
    out = Path(config.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    torch.manual_seed(config.seed)
    model, disc = build_networks(config)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.999))

    def plateau(o: torch.optim.Optimizer, floor: float) -> Any:
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            o, mode="min", factor=0.5, patience=config.plateau_patience,
            threshold=config.plateau_min_delta, threshold_mode="abs", min_lr=floor,
        )  # fmt: skip

    sched = plateau(opt, config.min_lr)
    d_opt = d_sched = None
    if disc is not None:
        disc.to(device)
        d_opt = torch.optim.Adam(disc.parameters(), lr=config.d_lr, betas=(0.9, 0.999))
        d_sched = plateau(d_opt, config.d_lr * 0.1)

    train_src, val_src = make_sources(config)
    sampler = PatchSampler(train_src, config.patch_size, config.percentiles,
                           seed=config.seed + 7919 * dist.rank)  # fmt: skip
    # Every rank validates on the same fixed patches so plateau decisions agree.
    val_x, val_y = PatchSampler(
        val_src, config.patch_size, config.percentiles, seed=config.seed + 104_729
    ).batch(config.val_patches, train=False)

    step, best, elapsed0 = 0, math.inf, 0.0
    latest = out / "latest.pt"
    if resume and latest.is_file():
        state = load_checkpoint(latest, device)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        if disc is not None and d_opt is not None and d_sched is not None:
            disc.load_state_dict(state["discriminator"])
            d_opt.load_state_dict(state["d_optimizer"])
            d_sched.load_state_dict(state["d_scheduler"])
        step, best, elapsed0 = state["step"], state["best_nrmse"], state["elapsed_s"]
        sampler.load_state_dict(state["sampler"][dist.rank])
        torch.set_rng_state(state["torch_rng"])
        logger.info("resumed %s at step %d (best val NRMSE %.4f)", out, step, best)
    elif main:
        config.to_yaml(out / "config.yaml")
    log = CsvLog(out / "log.csv") if main else None
    if log is not None and resume:
        log.truncate_after(step)

    net: torch.nn.Module = model
    d_net: torch.nn.Module | None = disc
    if dist.active:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        net = DDP(model, device_ids=ids)
        if disc is not None:
            d_net = DDP(disc, device_ids=ids)
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp)
    d_scaler = torch.amp.GradScaler("cuda", enabled=use_amp)

    def batch() -> tuple[torch.Tensor, torch.Tensor]:
        x, y = sampler.batch(config.batch_size)
        return torch.from_numpy(x).to(device), torch.from_numpy(y).to(device)

    def all_sampler_states() -> list[dict[str, Any]]:
        mine = sampler.state_dict()
        if not dist.active:
            return [mine]
        import torch.distributed as tdist

        gathered: list[Any] = [None] * dist.world
        tdist.all_gather_object(gathered, mine)
        return gathered

    def should_stop(local: bool) -> bool:
        if not dist.active:
            return local
        import torch.distributed as tdist

        flag = torch.tensor([1.0 if local else 0.0], device=device)
        tdist.all_reduce(flag, op=tdist.ReduceOp.MAX)
        return bool(flag.item())

    start = time.perf_counter()
    train_time, trained, loss_sum, d_loss_sum, n_loss, n_d = 0.0, 0, 0.0, 0.0, 0, 0
    stopped_early = False
    progress = TrainProgress(config.iterations, step, enabled=main and config.progress)
    with progress:
        while step < config.iterations:
            t0 = time.perf_counter()
            if d_net is not None and d_opt is not None and step % config.g_steps_per_d_step == 0:
                x, y = batch()
                with torch.autocast(device.type, enabled=use_amp), torch.no_grad():
                    fake = net(x)
                # One discriminator forward over real and fake together: DDP allows a single
                # forward per backward.
                with torch.autocast(device.type, enabled=use_amp):
                    probs = d_net(torch.cat([y, fake.detach().to(y.dtype)]))
                d_loss = _bce(probs[: len(y)], 1.0) + _bce(probs[len(y) :], 0.0)
                d_opt.zero_grad(set_to_none=True)
                d_scaler.scale(d_loss).backward()  # type: ignore[no-untyped-call]
                d_scaler.step(d_opt)
                d_scaler.update()
                d_loss_sum, n_d = d_loss_sum + d_loss.item(), n_d + 1
            x, y = batch()
            with torch.autocast(device.type, enabled=use_amp):
                pred = net(x)
                adv_p = d_net(pred) if d_net is not None else None
            loss = mse_ssim_loss(pred, y, config.ssim_weight)
            if adv_p is not None:
                loss = loss + config.adversarial_weight * _bce(adv_p, 1.0)
            opt.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
            scaler.step(opt)
            scaler.update()
            step += 1
            trained += config.batch_size * dist.world
            loss_value = loss.item()
            loss_sum, n_loss = loss_sum + loss_value, n_loss + 1
            train_time += time.perf_counter() - t0
            over_budget = config.max_minutes is not None and (
                elapsed0 + time.perf_counter() - start > 60 * config.max_minutes
            )
            stop = should_stop(over_budget)
            progress.advance(step, loss=loss_value)
            if step % config.val_every and step < config.iterations and not stop:
                continue
            val = _validate(model, val_x, val_y, 2 * config.batch_size, device)
            sched.step(val)
            if d_sched is not None:
                d_sched.step(val)
            improved = val < best
            best = min(best, val)
            samplers = all_sampler_states()
            elapsed = elapsed0 + time.perf_counter() - start
            if main:
                state = {
                    "model": model.state_dict(), "optimizer": opt.state_dict(),
                    "scheduler": sched.state_dict(), "step": step, "best_nrmse": best,
                    "val_nrmse": val, "elapsed_s": elapsed, "sampler": samplers,
                    "torch_rng": torch.get_rng_state(),
                    "config": config.model_dump(mode="json"),
                }  # fmt: skip
                if disc is not None and d_opt is not None and d_sched is not None:
                    state.update(discriminator=disc.state_dict(), d_optimizer=d_opt.state_dict(),
                                 d_scheduler=d_sched.state_dict())  # fmt: skip
                save_checkpoint(latest, state)
                if improved:
                    save_checkpoint(out / "best.pt", state)
                assert log is not None
                log.write({
                    "step": step, "loss": loss_sum / max(n_loss, 1),
                    "d_loss": d_loss_sum / n_d if n_d else None,
                    "lr": opt.param_groups[0]["lr"], "val_nrmse": val, "best_nrmse": best,
                    "patches_per_s": trained / max(train_time, 1e-9), "elapsed_s": elapsed,
                })  # fmt: skip
            loss_sum = d_loss_sum = 0.0
            n_loss = n_d = 0
            progress.validated(val, best)
            if stop:
                stopped_early = step < config.iterations
                break
    elapsed = elapsed0 + time.perf_counter() - start
    if dist.active:
        import torch.distributed as tdist

        tdist.barrier()
    return TrainResult(out, step, best, trained / max(train_time, 1e-9), elapsed,
                       not stopped_early)  # fmt: skip
