"""Reconstructors that run Wiener SIM first: a physics-informed network, and ``auto``.

`PhysicsInformedReconstructor` repairs hot pixels, runs `WienerReconstructor` (estimated, or
recorded, pattern parameters; the card's fixed Wiener constant), builds `physics_input` and runs
the network on it, mapping the output back to counts. The live pipeline, reprocessing and
``livesr reconstruct`` get it by model name: the card's ``input == "wiener+widefield"``.
`build_physics_informed` builds it, or the `AutoReconstructor` around it (``--method auto``,
module `_auto_rec`).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._auto_rec import CHI2_MARGIN, REFUSED, AutoReconstructor, measured_photons, network_wins
from ._physics import physics_input
from ._protocol import Reconstructor, ReconstructorInfo
from .conventional import SIMFitWarning, WienerReconstructor, repair_hot_pixels

__all__ = [
    "CHI2_MARGIN",
    "REFUSED",
    "AutoReconstructor",
    "PhysicsInformedReconstructor",
    "build_physics_informed",
    "measured_photons",
    "network_wins",
]


class PhysicsInformedReconstructor:
    """Wiener SIM, then a network on [Wiener, wide-field]; the `Reconstructor` protocol.

    Parameters
    ----------
    network : Reconstructor
        The network backend (input (N, 2, sY, sX), scale 1).
    wiener : WienerReconstructor
        Built with the card's fixed Wiener constant (`wiener_input`).
    scale : int
        SR factor of the Wiener step (2).
    """

    physics_informed = True

    def __init__(
        self, network: Reconstructor, wiener: WienerReconstructor, scale: int = 2
    ) -> None:
        self.network = network
        self.wiener_rec = wiener
        self._scale = scale

    @property
    def info(self) -> ReconstructorInfo:
        """The network's name, backend and device; 9 raw frames in, x2 out."""
        net = self.network.info
        return ReconstructorInfo(
            name=net.name,
            backend=net.backend,
            in_frames=self.wiener_rec.info.in_frames,
            scale=self._scale,
            fixed_shape=None,
            precision=net.precision,
            device=net.device,
            weights_sha256=net.weights_sha256,
        )

    @property
    def params(self) -> Any:
        """The Wiener step's pattern parameters (None until the first stack)."""
        return self.wiener_rec.params

    @property
    def wiener(self) -> float | None:
        """The Wiener constant of the input."""
        return self.wiener_rec.wiener

    def report(self) -> dict[str, Any]:
        """The Wiener step's parameter report."""
        return self.wiener_rec.report()

    def warmup(self) -> None:
        """Warm up both steps."""
        self.wiener_rec.warmup()
        self.network.warmup()

    def __call__(self, stacks: NDArray[np.floating]) -> NDArray[np.float32]:
        """Raw counts (N, F, Y, X) -> float32 (N, 1, 2Y, 2X) in counts."""
        data = np.asarray(stacks, dtype=np.float32)
        return self.from_repaired(np.stack([repair_hot_pixels(s)[0] for s in data]))

    def from_repaired(self, repaired: NDArray[np.float32]) -> NDArray[np.float32]:
        """As calling it, on stacks (N, F, Y, X) whose hot pixels `repair_hot_pixels` fixed.

        `AutoReconstructor` repairs every stack once to measure its signal and passes the
        repaired frames on (the repair is ~25 ms per 512 x 512 frame on one core).
        """
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SIMFitWarning)
            wien = self.wiener_rec(repaired)
        inputs, maps = [], []
        for w, frames in zip(wien[:, 0], repaired, strict=True):
            x, lo, sc = physics_input(w, frames, self._scale)
            inputs.append(x)
            maps.append((lo, sc))
        batch = np.stack(inputs)
        # The U-Net halves the raw grid twice: pad the SR grid to a multiple of 8 (reflect).
        sy, sx = batch.shape[-2:]
        py, px = (-sy) % 8, (-sx) % 8
        if py or px:
            batch = np.pad(batch, ((0, 0), (0, 0), (0, py), (0, px)), mode="reflect")
        y = self.network(batch)[..., :sy, :sx]
        out = np.empty(y.shape, np.float32)
        for i, (lo, sc) in enumerate(maps):
            out[i] = y[i] * np.float32(sc) + np.float32(lo)
        return out

    def close(self) -> None:
        """Close both steps."""
        self.network.close()
        self.wiener_rec.close()


#: The shipped physics-informed model (``--method auto`` uses it).
DEFAULT_PHYSICS_MODEL = "wiener-denoiser"

_SIM_OPTIONS = (
    "pattern",
    "optics",
    "channel",
    "params",
    "calibration",
    "allow_nominal",
    "workers",
    "search",
)


def build_physics_informed(
    target: Any,
    card: dict[str, Any],
    settings: Any,
    device: str,
    frame_shape: tuple[int, int] | None,
    *,
    auto: bool,
    options: dict[str, Any],
) -> tuple[Reconstructor, Any]:
    """The physics-informed (or auto) reconstructor of a model and its `WienerSpec`.

    `options` must hold ``pattern`` and ``optics`` (the microscope: Wiener SIM runs first);
    ``channel``, ``params``, ``calibration``, ``allow_nominal``, ``workers``/``threads`` are
    optional, and for `auto` ``check_consistency`` (`AutoReconstructor`; default True).
    Anything else is an error.
    """
    from livesr.config import WienerSpec

    from ._factory import create_reconstructor

    sim = {k: options.pop(k) for k in _SIM_OPTIONS if k in options}
    threads = options.pop("threads", None)
    check = bool(options.pop("check_consistency", True)) if auto else None
    if options:
        raise TypeError(f"unexpected options for {card.get('name')!r}: {sorted(options)}")
    if "pattern" not in sim or "optics" not in sim:
        raise TypeError(
            f"{card.get('name')!r} runs Wiener SIM first (physics-informed input): pass "
            "pattern=PatternConfig(...) and optics=OpticsConfig(...) (the microscope)"
        )
    scale = 2
    net_shape = None
    if frame_shape is not None:  # the SR grid, padded to a multiple of 8 (see __call__)
        net_shape = (-(-scale * frame_shape[0] // 8) * 8, -(-scale * frame_shape[1] // 8) * 8)
    network = create_reconstructor(
        target, settings.backend, device, settings.precision, frame_shape=net_shape,
        batch_size=settings.batch_size, threads=threads,
    )  # fmt: skip
    workers = sim.pop("workers", None) or threads
    w_input = float(card.get("wiener_input") or 0.05)
    wiener = WienerReconstructor(**sim, wiener=w_input, scale=scale, workers=workers)
    rec: Reconstructor = PhysicsInformedReconstructor(network, wiener, scale)
    if auto:
        base = {k: v for k, v in sim.items() if k != "params"}

        def make_wiener(params: Any) -> WienerReconstructor:
            return WienerReconstructor(**base, params=params, scale=scale, workers=workers)

        rec = AutoReconstructor(
            rec,  # type: ignore[arg-type]
            make_wiener,
            card.get("auto_table") or [],
            optics=sim["optics"],
            channel=sim.get("channel"),
            check_consistency=bool(check),
        )
    params = sim.get("params")
    spec = WienerSpec(
        pattern=sim["pattern"],
        optics=sim["optics"],
        channel=sim.get("channel"),
        parameters=None if params is None else params.to_dict(),
        wiener=w_input,
        calibration=sim.get("calibration"),
        allow_nominal=bool(sim.get("allow_nominal", False)),
        consistency_check=check,
    )
    return rec, spec
