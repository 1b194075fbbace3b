"""The optimisation side of training: networks, optimisers, schedulers and one step of each kind.

DFCAN: MSE + w(1 - SSIM), Adam, halve the rate on a validation-NRMSE plateau. DFGAN adds a
discriminator (``adversarial_weight`` x BCE in the generator loss) with its own optimiser and
scheduler. Mixed precision runs on CUDA only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._losses import mse_ssim_loss

if TYPE_CHECKING:
    import torch

    from ._config import TrainConfig
    from ._ddp import Dist
    from ._sources import PatchSampler

__all__ = ["Nets", "Stepper", "build_nets", "build_networks"]


def _bce(prob: torch.Tensor, label: float) -> torch.Tensor:
    import torch
    import torch.nn.functional as F

    # BCE on probabilities is unsafe under autocast; run it in fp32, clamped away from 0/1.
    p = prob.float().clamp(1e-7, 1 - 1e-7)
    return F.binary_cross_entropy(p, torch.full_like(p, label))


def build_networks(config: TrainConfig) -> tuple[torch.nn.Module, torch.nn.Module | None]:
    """The network (generator) and, for DFGAN, the discriminator."""
    from livesr.models import build_model

    model = build_model(config.model)
    if not config.is_gan:
        return model, None
    from livesr.models import DFGANDiscriminator

    return model, DFGANDiscriminator(**config.discriminator)


@dataclass
class Nets:
    """The networks of one run with their optimisers and plateau schedulers (no DDP wrappers).

    ``disc``, ``d_opt`` and ``d_sched`` are set for DFGAN only.
    """

    model: torch.nn.Module
    opt: torch.optim.Optimizer
    sched: Any
    disc: torch.nn.Module | None = None
    d_opt: torch.optim.Optimizer | None = None
    d_sched: Any = None

    def state_dict(self) -> dict[str, Any]:
        """Weights, optimiser and scheduler states, under the checkpoint's keys."""
        state = {"model": self.model.state_dict(), "optimizer": self.opt.state_dict(),
                 "scheduler": self.sched.state_dict()}  # fmt: skip
        if self.disc is not None and self.d_opt is not None and self.d_sched is not None:
            state.update(discriminator=self.disc.state_dict(), d_optimizer=self.d_opt.state_dict(),
                         d_scheduler=self.d_sched.state_dict())  # fmt: skip
        return state

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore what `state_dict` saved."""
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optimizer"])
        self.sched.load_state_dict(state["scheduler"])
        if self.disc is not None and self.d_opt is not None and self.d_sched is not None:
            self.disc.load_state_dict(state["discriminator"])
            self.d_opt.load_state_dict(state["d_optimizer"])
            self.d_sched.load_state_dict(state["d_scheduler"])

    def schedule(self, val: float) -> None:
        """Step the plateau schedulers on a validation NRMSE."""
        self.sched.step(val)
        if self.d_sched is not None:
            self.d_sched.step(val)


def build_nets(config: TrainConfig, device: torch.device) -> Nets:
    """Networks on `device`, Adam optimisers and plateau schedulers as `config` says."""
    import torch

    def plateau(o: torch.optim.Optimizer, floor: float) -> Any:
        return torch.optim.lr_scheduler.ReduceLROnPlateau(
            o, mode="min", factor=0.5, patience=config.plateau_patience,
            threshold=config.plateau_min_delta, threshold_mode="abs", min_lr=floor,
        )  # fmt: skip

    model, disc = build_networks(config)
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=config.lr, betas=(0.9, 0.999))
    nets = Nets(model, opt, plateau(opt, config.min_lr))
    if disc is not None:
        disc.to(device)
        d_opt = torch.optim.Adam(disc.parameters(), lr=config.d_lr, betas=(0.9, 0.999))
        nets.disc, nets.d_opt, nets.d_sched = disc, d_opt, plateau(d_opt, config.d_lr * 0.1)
    return nets


class Stepper:
    """The optimisation steps of a run: DDP-wrapped networks, AMP scalers and the batch source.

    Build it after the weights are final for this session (after a resume): DDP broadcasts rank
    0's weights when it wraps. Calling thread only; every rank calls the same steps in order.
    """

    def __init__(
        self, config: TrainConfig, nets: Nets, sampler: PatchSampler, dist: Dist,
        device: torch.device,
    ) -> None:  # fmt: skip
        import torch

        self.config, self.nets, self.sampler, self.device = config, nets, sampler, device
        self.use_amp = config.amp and device.type == "cuda"
        self.net: torch.nn.Module = nets.model
        self.d_net: torch.nn.Module | None = nets.disc
        if dist.active:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [device.index] if device.type == "cuda" else None
            self.net = DDP(nets.model, device_ids=ids)
            if nets.disc is not None:
                self.d_net = DDP(nets.disc, device_ids=ids)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)
        self.d_scaler = torch.amp.GradScaler("cuda", enabled=self.use_amp)

    def _batch(self) -> tuple[torch.Tensor, torch.Tensor]:
        import torch

        x, y = self.sampler.batch(self.config.batch_size)
        return torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device)

    def wants_d_step(self, step: int) -> bool:
        """Whether generator step `step` is preceded by a discriminator step."""
        return self.d_net is not None and step % self.config.g_steps_per_d_step == 0

    def discriminator(self) -> float:
        """One discriminator step (DFGAN); returns its loss."""
        import torch

        assert self.d_net is not None and self.nets.d_opt is not None
        x, y = self._batch()
        with torch.autocast(self.device.type, enabled=self.use_amp), torch.no_grad():
            fake = self.net(x)
        # One discriminator forward over real and fake together: DDP allows a single forward
        # per backward.
        with torch.autocast(self.device.type, enabled=self.use_amp):
            probs = self.d_net(torch.cat([y, fake.detach().to(y.dtype)]))
        d_loss = _bce(probs[: len(y)], 1.0) + _bce(probs[len(y) :], 0.0)
        self.nets.d_opt.zero_grad(set_to_none=True)
        self.d_scaler.scale(d_loss).backward()  # type: ignore[no-untyped-call]
        self.d_scaler.step(self.nets.d_opt)
        self.d_scaler.update()
        return float(d_loss.item())

    def generator(self) -> float:
        """One generator step (plus the adversarial term for DFGAN); returns its loss."""
        import torch

        x, y = self._batch()
        with torch.autocast(self.device.type, enabled=self.use_amp):
            pred = self.net(x)
            adv_p = self.d_net(pred) if self.d_net is not None else None
        loss = mse_ssim_loss(pred, y, self.config.ssim_weight)
        if adv_p is not None:
            loss = loss + self.config.adversarial_weight * _bce(adv_p, 1.0)
        self.nets.opt.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()  # type: ignore[no-untyped-call]
        self.scaler.step(self.nets.opt)
        self.scaler.update()
        return float(loss.item())
