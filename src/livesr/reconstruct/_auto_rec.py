"""``--method auto``: per stack, the physics-informed network or Wiener SIM, and a veto.

`AutoReconstructor` picks per stack: the network where the card's held-out table says it beats
Wiener at the stack's measured signal level (`measured_photons`, `network_wins`), Wiener
(automatic constant) elsewhere. Where it picked the network it also checks that output against
the raw frames: a network output less consistent with them than Wiener's (raw re-synthesis
chi^2, `livesr.qc`, worse by more than `CHI2_MARGIN`) is refused and Wiener's used.
`last_choices` says which method made each stack, `last_consistency` the chi^2 pair behind
each check; `StackReconstructor` puts both in the stack's provenance.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from livesr._logger import logger

from ._protocol import ReconstructorInfo
from .conventional import SIMFitWarning, WienerReconstructor, repair_hot_pixels

if TYPE_CHECKING:
    from livesr.config import CameraConfig, OpticsConfig
    from livesr.qc import QualityChecker

    from ._physics_rec import PhysicsInformedReconstructor

__all__ = ["CHI2_MARGIN", "REFUSED", "AutoReconstructor", "measured_photons", "network_wins"]


#: How much worse than Wiener's (relative, on the raw re-synthesis chi^2 averaged over the
#: orientations) a network output's consistency with its raw frames may be before ``auto``
#: refuses it. Chi^2 fits each frame's gain and offset, so both images' scales are free.
#: Measured on simulated stacks (64 and 128 px; microtubules, CCPs, ER, F-actin; the bundled
#: wiener-denoiser): where the table picks the network (up to ~40 photons) its chi^2 was
#: 1.01-1.18 x Wiener's, rising with the light; forty painted-in fake beads gave 1.1-1.4 x at
#: 5 photons (the noise hides them: not refused) and 1.6-3 x at 20 photons (refused).
CHI2_MARGIN = 0.25

#: `AutoReconstructor.last_choices` entry of a stack whose network output was refused.
REFUSED = "wiener (network refused)"


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
    optics : OpticsConfig, optional
        The raw frames' optics (NA, wavelength, pixel size); needed by `check_consistency`.
    channel : str, optional
        Optics channel (the first when None).
    camera : CameraConfig, optional
        Offset, gain and read noise of the raw frames, for chi^2's noise model (the
        simulator's camera when None; both images of a stack share it, so the comparison
        depends little on it).
    check_consistency : bool
        For every stack given to the network, also reconstruct it with Wiener and refuse the
        network output when its raw re-synthesis chi^2 exceeds Wiener's by more than
        `chi2_margin` (relative): the stack gets Wiener's output, `last_choices` says
        `REFUSED`. Costs a Wiener reconstruction and two chi^2 per network stack.
    chi2_margin : float
        `CHI2_MARGIN` by default.
    """

    physics_informed = True

    def __init__(
        self,
        network: PhysicsInformedReconstructor,
        make_wiener: Callable[[Any], WienerReconstructor],
        table: Sequence[dict[str, float]],
        *,
        optics: OpticsConfig | None = None,
        channel: str | None = None,
        camera: CameraConfig | None = None,
        check_consistency: bool = True,
        chi2_margin: float = CHI2_MARGIN,
    ) -> None:
        if check_consistency and optics is None:
            raise ValueError(
                "check_consistency compares chi^2 on the raw frames: pass optics=OpticsConfig()"
            )
        if chi2_margin < 0:
            raise ValueError(f"chi2_margin={chi2_margin} must be >= 0")
        self.network = network
        self._make_wiener = make_wiener
        self.wiener_rec: WienerReconstructor | None = None
        self.table = [dict(r) for r in table]
        self.optics, self.channel, self.camera = optics, channel, camera
        self.check_consistency = check_consistency
        self.chi2_margin = float(chi2_margin)
        self._checker: tuple[Any, tuple[int, int], QualityChecker] | None = None
        self.last_choices: list[str] = []
        self.last_photons: list[float] = []
        #: Per stack of the last call: ``{"chi2_network", "chi2_wiener", "chi2_margin"}`` where
        #: the network's output was checked, else None.
        self.last_consistency: list[dict[str, float | None] | None] = []
        #: Time the consistency check took in the last call (its Wiener SIM and chi^2), ms.
        self.last_check_ms = 0.0

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
        repaired = [repair_hot_pixels(s)[0] for s in data]
        photons = [measured_photons(r) for r in repaired]
        if self.network.params is None:
            # One estimate, on the first stack, for both methods (as Wiener alone would).
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", SIMFitWarning)
                self.network.wiener_rec.calibrate(repaired[0])
        choices = ["network" if network_wins(self.table, p) else "wiener" for p in photons]
        consistency: list[dict[str, float | None] | None] = [None] * len(data)
        check_ms = 0.0
        out: NDArray[np.float32] | None = None
        net_idx = [i for i, c in enumerate(choices) if c == "network"]
        if net_idx:
            y = self.network.from_repaired(np.stack([repaired[i] for i in net_idx]))
            out = np.empty((len(data), *y.shape[1:]), np.float32)
            out[net_idx] = y
            if self.check_consistency:
                t0 = time.perf_counter()
                self._refuse_inconsistent(out, repaired, net_idx, choices, consistency)
                check_ms = (time.perf_counter() - t0) * 1e3
        wien_idx = [i for i, c in enumerate(choices) if c == "wiener"]
        if wien_idx:
            y = self._wiener([repaired[i] for i in wien_idx])
            if out is None:
                out = np.empty((len(data), *y.shape[1:]), np.float32)
            out[wien_idx] = y
        assert out is not None
        self.last_photons = photons
        self.last_choices = choices
        self.last_consistency = consistency
        self.last_check_ms = check_ms
        return out

    def _wiener(self, repaired: list[NDArray[np.float32]]) -> NDArray[np.float32]:
        """Wiener SIM (automatic constant, the network step's pattern) of repaired stacks."""
        if self.wiener_rec is None:
            self.wiener_rec = self._make_wiener(self.network.params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SIMFitWarning)
            return self.wiener_rec(np.stack(repaired))

    def _refuse_inconsistent(
        self,
        out: NDArray[np.float32],
        repaired: list[NDArray[np.float32]],
        net_idx: list[int],
        choices: list[str],
        consistency: list[dict[str, float | None] | None],
    ) -> None:
        """Give Wiener's output to network stacks less consistent with their raw frames.

        Both outputs are checked against the hot-pixel-repaired raw frames both methods saw,
        under the network step's estimated pattern. Updates `out`, `choices` and
        `consistency` in place.
        """
        wien = self._wiener([repaired[i] for i in net_idx])
        raw_shape = repaired[0].shape[-2:]
        checker = self._chi2_checker(raw_shape, out.shape[-1] // raw_shape[-1])
        limit = 1.0 + self.chi2_margin
        for j, i in enumerate(net_idx):
            raw = repaired[i]
            net = math.inf  # a non-finite network output explains nothing: refused outright
            if np.isfinite(out[i]).all():
                net = float(np.mean(checker.chi2(out[i, 0], raw)))
            ref = float(np.mean(checker.chi2(wien[j, 0], raw)))
            consistency[i] = {
                "chi2_network": _finite(net), "chi2_wiener": _finite(ref),
                "chi2_margin": self.chi2_margin,
            }  # fmt: skip
            if not net <= limit * ref:
                out[i] = wien[j]
                choices[i] = REFUSED
                logger.info(
                    "auto: network output refused (raw re-synthesis chi^2 %.3g > %.3g x "
                    "Wiener's %.3g); Wiener SIM used",
                    net, limit, ref,
                )  # fmt: skip

    def _chi2_checker(self, raw_shape: tuple[int, ...], scale: int) -> QualityChecker:
        """The chi^2 checker for the pattern in use (rebuilt when the pattern or shape change)."""
        from livesr.qc import QualityChecker, pattern_state

        params, shape = self.network.params, (int(raw_shape[0]), int(raw_shape[1]))
        if self._checker is None or self._checker[0] is not params or self._checker[1] != shape:
            assert self.optics is not None  # required with check_consistency
            checker = QualityChecker(
                self.optics, shape, scale=scale, channel=self.channel,
                pattern=pattern_state(params), camera=self.camera,
            )  # fmt: skip
            self._checker = (params, shape, checker)
        return self._checker[2]

    def close(self) -> None:
        """Close both."""
        self.network.close()
        if self.wiener_rec is not None:
            self.wiener_rec.close()


def _finite(value: float) -> float | None:
    """`value` rounded for the provenance; None for NaN/Inf (not JSON)."""
    return round(value, 4) if math.isfinite(value) else None
