"""Reconstructors that run Wiener SIM first: a physics-informed network, and ``auto``.

`PhysicsInformedReconstructor` repairs hot pixels, runs `WienerReconstructor` (estimated, or
recorded, pattern parameters; the card's fixed Wiener constant), builds `physics_input` and runs
the network on it, mapping the output back to counts. The live pipeline, reprocessing and
``livesr reconstruct`` get it by model name: the card's ``input == "wiener+widefield"``.

`AutoReconstructor` picks per stack: the network where the card's held-out table says it beats
Wiener at the stack's measured signal level (`measured_photons`), Wiener (automatic constant)
elsewhere; `last_choices` says which one made each stack.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ._physics import physics_input
from ._protocol import Reconstructor, ReconstructorInfo
from .conventional import SIMFitWarning, WienerReconstructor, repair_hot_pixels

__all__ = [
    "AutoReconstructor",
    "PhysicsInformedReconstructor",
    "measured_photons",
    "network_wins",
]


def measured_photons(frames: NDArray[np.floating], beyond: float = 0.45) -> float:
    """Signal photons per pixel of one raw stack (F, Y, X), estimated from the data alone.

    The camera gain comes from the photon-transfer relation: the white-noise variance
    (median spectral power beyond `beyond` cycles/px, outside the OTF of any microscope with a
    cutoff of 0.28-0.42 cycles/px) over the mean above the dark floor (0.1th percentile) is
    ADU per photon. The signal is the wide-field mean over the structure (pixels above 20 % of
    the 99.9th percentile, as `livesr.simulate.signal_level`), converted with that gain. Read
    noise and background bias it low; it is monotonic in the light level, which is all the
    ``auto`` table needs (the table is indexed by this same measure on held-out data).
    """
    data = np.asarray(frames, dtype=np.float32)
    floor = float(np.percentile(data, 0.1))
    mean = float(data.mean()) - floor
    ny, nx = data.shape[-2:]
    fy = np.fft.fftfreq(ny)[:, None]
    fx = np.fft.rfftfreq(nx)[None, :]
    outside = np.hypot(fy, fx) > beyond
    spectra = np.fft.rfft2(data - data.mean(axis=(-2, -1), keepdims=True))
    power = float(np.median(np.abs(spectra[..., outside]) ** 2)) / (ny * nx) / math.log(2)
    if power <= 0 or mean <= 0:
        return 0.0
    wf = data.mean(axis=0) - floor
    top = float(np.percentile(wf, 99.9))
    signal = float(wf[wf >= 0.2 * top].mean()) if top > 0 else 0.0
    return float(max(signal, 0.0) * mean / power)


def network_wins(table: Sequence[dict[str, float]], photons: float) -> bool:
    """Whether the network beat Wiener at `photons` (log-interpolated; ends extend)."""
    rows = sorted(
        (r for r in table if r.get("measured", r.get("photons", 0)) > 0),
        key=lambda r: r.get("measured", r["photons"]),
    )
    if not rows:
        return False
    xs = np.log([r.get("measured", r["photons"]) for r in rows])
    gain = np.array([r["network"] - r["wiener"] for r in rows])
    value = float(np.interp(math.log(max(photons, 1e-6)), xs, gain))
    return value > 0.0


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
        repaired = np.stack([repair_hot_pixels(s)[0] for s in data])
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


class AutoReconstructor:
    """Per stack, the network where it wins at the measured signal level, else Wiener.

    Parameters
    ----------
    network : PhysicsInformedReconstructor
    make_wiener : callable
        ``make_wiener(params)``: conventional Wiener SIM (automatic constant) with the network
        step's estimated pattern parameters, built when first needed.
    table : sequence of dict
        The card's ``auto_table``.
    """

    physics_informed = True

    def __init__(
        self,
        network: PhysicsInformedReconstructor,
        make_wiener: Callable[[Any], WienerReconstructor],
        table: Sequence[dict[str, float]],
    ) -> None:
        self.network = network
        self._make_wiener = make_wiener
        self.wiener_rec: WienerReconstructor | None = None
        self.table = [dict(r) for r in table]
        self.last_choices: list[str] = []
        self.last_photons: list[float] = []

    @property
    def info(self) -> ReconstructorInfo:
        """As the network, named ``auto(<network>)``."""
        net = self.network.info
        return ReconstructorInfo(
            name=f"auto({net.name})",
            backend=net.backend,
            in_frames=net.in_frames,
            scale=net.scale,
            precision=net.precision,
            device=net.device,
            weights_sha256=net.weights_sha256,
        )

    @property
    def params(self) -> Any:
        """The pattern parameters in use."""
        return self.network.params

    @property
    def wiener(self) -> float | None:
        """The network input's Wiener constant."""
        return self.network.wiener

    def report(self) -> dict[str, Any]:
        """The parameter report, plus the last choices."""
        out = self.network.report()
        out["auto_choices"] = list(self.last_choices)
        return out

    def warmup(self) -> None:
        """Warm up the network."""
        self.network.warmup()

    def __call__(self, stacks: NDArray[np.floating]) -> NDArray[np.float32]:
        """Raw counts (N, F, Y, X) -> float32 (N, 1, 2Y, 2X), each by its chosen method."""
        data = np.asarray(stacks, dtype=np.float32)
        repaired_all = [repair_hot_pixels(s)[0] for s in data]
        photons = [measured_photons(r) for r in repaired_all]
        if self.network.params is None:
            # One estimate, on the first stack, for both methods (as Wiener alone would).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SIMFitWarning)
                self.network.wiener_rec.calibrate(repaired_all[0])
        use_net = [network_wins(self.table, p) for p in photons]
        out: NDArray[np.float32] | None = None
        net_idx = [i for i, u in enumerate(use_net) if u]
        wien_idx = [i for i, u in enumerate(use_net) if not u]
        if net_idx:
            y = self.network(data[net_idx])
            out = np.empty((len(data), *y.shape[1:]), np.float32)
            out[net_idx] = y
        if wien_idx:
            if self.wiener_rec is None:
                self.wiener_rec = self._make_wiener(self.network.params)
            repaired = np.stack([repaired_all[i] for i in wien_idx])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SIMFitWarning)
                y = self.wiener_rec(repaired)
            if out is None:
                out = np.empty((len(data), *y.shape[1:]), np.float32)
            out[wien_idx] = y
        assert out is not None
        self.last_photons = photons
        self.last_choices = ["network" if u else "wiener" for u in use_net]
        return out

    def close(self) -> None:
        """Close both."""
        self.network.close()
        if self.wiener_rec is not None:
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
    optional. Anything else is an error.
    """
    from livesr.config import WienerSpec

    from ._factory import create_reconstructor

    sim = {k: options.pop(k) for k in _SIM_OPTIONS if k in options}
    threads = options.pop("threads", None)
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

        rec = AutoReconstructor(rec, make_wiener, card.get("auto_table") or [])  # type: ignore[arg-type]
    params = sim.get("params")
    spec = WienerSpec(
        pattern=sim["pattern"],
        optics=sim["optics"],
        channel=sim.get("channel"),
        parameters=None if params is None else params.to_dict(),
        wiener=w_input,
        calibration=sim.get("calibration"),
        allow_nominal=bool(sim.get("allow_nominal", False)),
    )
    return rec, spec
