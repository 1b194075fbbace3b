"""Randomised-microscope SIM simulator for training (networks.md section 5.3).

Each *field* draws a microscope (NA, emission, pixel size, detection cutoff 0.28-0.42 cycles
per raw pixel, OTF damping, k0 fraction 0.75-0.99 with half of the fields in 0.90-0.98, any
angle offset with per-orientation errors) and a procedural specimen (`._specimens`), and keeps
its noise-free bands on the camera grid. Each *draw* from a field re-samples what changes from
stack to stack: per-frame phase errors and step-scale error, modulation 0.3-1.0 per
orientation, intensity per orientation and frame, photons 2-200 (log-uniform, at least half at
<= 20; mean signal photons per pixel over the structure, `livesr.simulate.signal_level`, as
the evaluation counts them), read noise, gain, offset, smooth background and hot pixels.
Draws are cheap (a per-pixel sum plus noise), so many stacks come from one field.

The target is the specimen limited to the sample's SIM passband: the ideal incoherent OTF with
support ``kc + |k0|`` on the 2x SR grid (as `livesr.simulate`'s ground truth), in the same
counts-per-raw-pixel units as the Wiener reconstruction.

Geometry: SR pixel j covers ``[j, j + 1) p / 2`` and raw pixel i ``[i, i + 1) p`` (livesr's
SR grid, `fourier_upsample`); the pattern is ``1 + m cos(2 pi k.r + psi + theta_p)`` with r the
position from the centre of raw
pixel [0, 0], as `SIMParameters` (factor ``m exp(i psi)``, frame phase ``theta_p``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.ndimage import zoom

from livesr.config import OpticsConfig, PatternConfig
from livesr.optics import ideal_otf_radial
from livesr.reconstruct.conventional import AngleFit, SIMParameters
from livesr.simulate import signal_level

from ._specimens import random_specimen

__all__ = [
    "HELD_OUT",
    "TRAINING_RANGES",
    "Microscope",
    "SimField",
    "SimStack",
    "draw_stack",
    "make_field",
    "random_microscope",
]

#: The ranges drawn here (recorded in the model card).
TRAINING_RANGES: dict[str, object] = {
    "cutoff_cycles_per_px": [0.28, 0.42],
    "na": [1.1, 1.7],
    "emission_um": [0.45, 0.70],
    "pixel_size_um": [0.04, 0.11],
    "k0_fraction": [0.75, 0.99],
    "k0_fraction_half_in": [0.90, 0.98],
    "angle_offset_deg": [0.0, 60.0],
    "angle_error_deg": 3.0,
    "phase_error_rad": 0.3,
    "phase_step_scale_error": 0.1,
    "modulation": [0.3, 1.0],
    "otf_damping_a": [0.1, 1.0],
    "photons": [2.0, 200.0],
    "photons_fraction_at_most_20": 0.6,
    "read_noise_e": [0.5, 3.0],
    "gain_e_per_adu": [0.3, 2.0],
    "offset_adu": [0.0, 500.0],
    "background_fraction_of_mean": [0.0, 2.0],
    "hot_pixel_fraction": [1e-4, 1e-3],
    "specimens": [
        "filaments",
        "puncta",
        "network",
        "membranes",
        "blobs",
        "texture",
        "sparse",
        "mixtures",
    ],
    "assumed_na_error": 0.03,
    "parameter_error": "k 0.2 %, angle 0.1 deg, phase 0.15 rad, modulation x0.7-1.3",
}

#: An optical configuration training never draws (cutoff 0.306 lies inside the range, but
#: k0 0.8 with angles 23/83/143 deg, NA 1.2, 600 nm and 80 nm pixels is not a training
#: microscope; evaluation also uses livesr's own simulator and specimens, never used here).
HELD_OUT: dict[str, float] = {
    "na": 1.2,
    "emission_um": 0.600,
    "pixel_size_um": 0.080,
    "k0_fraction": 0.80,
    "angle_offset_deg": 23.0,
}


@dataclass(frozen=True)
class Microscope:
    """One drawn microscope."""

    na: float
    emission_um: float
    pixel_size_um: float
    k0_fraction: float
    angles_rad: tuple[float, ...]
    otf_damping: float

    @property
    def cutoff_per_um(self) -> float:
        """Detection cutoff 2 NA / lambda."""
        return 2.0 * self.na / self.emission_um

    @property
    def cutoff_per_px(self) -> float:
        """Detection cutoff in cycles per raw pixel."""
        return self.cutoff_per_um * self.pixel_size_um

    @property
    def k_per_um(self) -> NDArray[np.float64]:
        """First-order wave vectors (ky, kx), cycles/um, shape (A, 2)."""
        k0 = self.k0_fraction * self.cutoff_per_um
        a = np.asarray(self.angles_rad)
        return np.stack([k0 * np.sin(a), k0 * np.cos(a)], axis=1)

    def optics(self, na: float | None = None) -> OpticsConfig:
        """The `OpticsConfig` (optionally with another assumed NA)."""
        value = min(1.7, self.na if na is None else na)
        return OpticsConfig(
            na=value,
            immersion_index=max(1.518, value + 0.01),
            emission_um={"ch": self.emission_um},
            pixel_size_um=self.pixel_size_um,
        )

    def pattern(self) -> PatternConfig:
        """The nominal `PatternConfig` (first angle, k0 fraction)."""
        return PatternConfig(
            k0_fraction=self.k0_fraction,
            angle_offset_deg=math.degrees(self.angles_rad[0]),
            modulation=0.7,
        )


def random_microscope(rng: np.random.Generator) -> Microscope:
    """Draw NA, emission and pixel size until the cutoff lies in 0.28-0.42 cycles/px."""
    while True:
        na = rng.uniform(1.1, 1.7)
        lam = rng.uniform(0.45, 0.70)
        px = rng.uniform(0.04, 0.11)
        if 0.28 <= 2 * na / lam * px <= 0.42:
            break
    frac = rng.uniform(0.90, 0.98) if rng.random() < 0.5 else rng.uniform(0.75, 0.99)
    offset = rng.uniform(0, math.pi / 3)
    errors = np.radians(rng.uniform(-3.0, 3.0, 3))
    angles = tuple(float(offset + i * math.pi / 3 + errors[i]) for i in range(3))
    return Microscope(na, lam, px, frac, angles, float(rng.uniform(0.1, 1.0)))


@dataclass
class SimField:
    """Noise-free bands of one specimen under one microscope, camera grid (Y, X)."""

    microscope: Microscope
    b0: NDArray[np.float32]  # (Y, X) wide-field, mean ~1
    b1: NDArray[np.complex64]  # (A, Y, X) first-order bands
    target: NDArray[np.float32]  # (2Y, 2X) passband-limited specimen, same units as b0
    background: NDArray[np.float32]  # (Y, X) smooth, mean 1
    kind: str


def _bin2(image: NDArray[Any]) -> NDArray[Any]:
    y, x = image.shape[-2] // 2, image.shape[-1] // 2
    out: NDArray[Any] = image.reshape(*image.shape[:-2], y, 2, x, 2).mean(axis=(-3, -1))
    return out


def make_field(
    rng: np.random.Generator,
    size: int = 128,
    microscope: Microscope | None = None,
    density: NDArray[np.float32] | None = None,
) -> SimField:
    """Draw (or take) a microscope and a specimen and compute its bands and target."""
    scope = microscope or random_microscope(rng)
    if density is None:
        density, kind = random_specimen(rng, (2 * size, 2 * size))
    else:
        kind = "given"
    n = 2 * size
    ps = scope.pixel_size_um / 2
    qy = np.fft.fftfreq(n, ps)[:, None]
    qx = np.fft.fftfreq(n, ps)[None, :]
    q = np.sqrt(qy**2 + qx**2)
    kc = scope.cutoff_per_um
    otf = ideal_otf_radial(q / kc) * scope.otf_damping ** np.minimum(q / kc, 1.0)
    spec = np.fft.fft2(density)
    b0 = _bin2(np.fft.ifft2(spec * otf).real).astype(np.float32)
    # Pattern phase origin: the centre of raw pixel [0, 0] (as `estimate_parameters`).
    centre = (np.arange(n) + 0.5) * ps - scope.pixel_size_um / 2
    b1 = np.empty((3, size, size), np.complex64)
    for a, (ky, kx) in enumerate(scope.k_per_um):
        ramp = np.exp(2j * np.pi * (ky * centre[:, None] + kx * centre[None, :]))
        b1[a] = _bin2(np.fft.ifft2(np.fft.fft2(density * ramp) * otf))
    passband = kc * (1.0 + scope.k0_fraction)
    target = np.fft.ifft2(spec * ideal_otf_radial(q / passband)).real.astype(np.float32)
    bg = zoom(rng.uniform(0.3, 1.0, (4, 4)), size / 4, order=3, mode="reflect")[:size, :size]
    bg = np.maximum(bg, 0.05)
    return SimField(scope, b0, b1, target, (bg / bg.mean()).astype(np.float32), kind)


@dataclass
class SimStack:
    """One noisy raw stack drawn from a field, in camera ADU, with its truth."""

    raw: NDArray[np.float32]  # (9, Y, X) ADU (integers as float)
    target: NDArray[np.float32]  # (2Y, 2X) passband-limited specimen, ADU above offset
    params: SIMParameters  # true parameters of this stack
    photons: float  # mean signal photons per pixel per frame over the structure
    gain: float  # e- per ADU
    offset: float  # ADU
    background: float  # mean background photons per pixel


def random_photons(rng: np.random.Generator) -> float:
    """Photons 2-200, log-uniform in 2-20 with probability 0.6, else 20-200."""
    lo, hi = (2.0, 20.0) if rng.random() < 0.6 else (20.0, 200.0)
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def draw_stack(
    rng: np.random.Generator,
    field: SimField,
    photons: float | None = None,
    *,
    clean: bool = False,
) -> SimStack:
    """A raw stack from `field` with fresh pattern errors, light level and camera noise.

    ``clean=True`` gives an ideal camera (no read noise, offset, background or hot pixels)
    but keeps the photon noise.
    """
    scope = field.microscope
    photons = random_photons(rng) if photons is None else float(photons)
    step = 2 * math.pi / 3 * (1 + rng.uniform(-0.1, 0.1))
    psi = rng.uniform(0, 2 * math.pi, 3)
    theta = np.arange(3)[None, :] * step + rng.uniform(-0.3, 0.3, (3, 3))
    mod = rng.uniform(0.3, 1.0, 3)
    gain_a = 1 + rng.uniform(-0.15, 0.15, 3)
    gain_f = 1 + rng.uniform(-0.05, 0.05, (3, 3))
    # Photons count as livesr's signal level: the mean over the structure (pixels above 20 %
    # of the 99.9th percentile of the wide-field image), as the evaluation defines them.
    scale = photons / max(signal_level(field.b0), 1e-9)
    frames = np.empty((9, *field.b0.shape), np.float32)
    for a in range(3):
        for p in range(3):
            phase = np.exp(1j * (psi[a] + theta[a, p]))
            img = field.b0 + mod[a] * (phase * field.b1[a]).real
            frames[3 * a + p] = np.maximum(img, 0) * (scale * gain_a[a] * gain_f[a, p])
    if clean:
        bg_mean, read, gain, offset = 0.0, 0.0, 1.0, 0.0
    else:
        bg_mean = photons * 2.0 * rng.random() ** 2
        read = rng.uniform(0.5, 3.0)
        gain = rng.uniform(0.3, 2.0)
        offset = float(rng.uniform(0, 500))
        frames += np.float32(bg_mean) * field.background
    electrons = rng.poisson(frames).astype(np.float32)
    if read > 0:
        electrons += rng.standard_normal(electrons.shape).astype(np.float32) * np.float32(read)
    adu = np.round(electrons / np.float32(gain) + np.float32(offset))
    if not clean:
        frac = math.exp(rng.uniform(math.log(1e-4), math.log(1e-3)))
        count = rng.binomial(adu[0].size, frac)
        if count:
            idx = rng.choice(adu[0].size, count, replace=False)
            hot = rng.uniform(5, 100, count) * (photons / gain) + 50
            adu.reshape(9, -1)[:, idx] += np.round(hot).astype(np.float32)
    adu = np.clip(adu, 0, 65535).astype(np.float32)
    fits = tuple(
        AngleFit("ok", (float(k[0]), float(k[1])), None, None, None, ()) for k in scope.k_per_um
    )
    params = SIMParameters(
        scope.k_per_um.copy(),
        theta.astype(np.float64),
        (mod * np.exp(1j * psi))[:, None].astype(np.complex128),
        scope.pixel_size_um,
        field.b0.shape,
        fits,
    )
    target = field.target * np.float32(scale / gain)
    return SimStack(adu, target, params, photons, gain, offset, bg_mean)
