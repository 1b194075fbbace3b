"""The instrument: detection optics, the SIM pattern, the camera."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    Field,
    model_validator,
)
from typing_extensions import Self

from ._base import FrozenConfig


class OpticsConfig(FrozenConfig):
    """Detection optics of a 2D (TIRF/GI/epi) SIM microscope.

    Attributes
    ----------
    na : float
        Detection numerical aperture.
    immersion_index : float
        Refractive index of the immersion medium; bounds the NA.
    emission_um : dict[str, float]
        Emission wavelength in um for each channel name (for example ``{"488": 0.525}``).
    pixel_size_um : float
        Camera pixel size projected into the sample, in um.
    """

    na: float = Field(1.49, gt=0.0, le=1.7)
    immersion_index: float = Field(1.518, ge=1.0, le=1.8)
    emission_um: dict[str, float] = Field(default_factory=lambda: {"488": 0.525, "561": 0.605})
    pixel_size_um: float = Field(0.0626, gt=0.0)

    @model_validator(mode="after")
    def _check_physics(self) -> Self:
        if self.na >= self.immersion_index:
            raise ValueError(
                f"na={self.na} must be below immersion_index={self.immersion_index}: "
                "an objective cannot collect light beyond the medium's index"
            )
        if not self.emission_um:
            raise ValueError("emission_um needs at least one channel, e.g. {'488': 0.525}")
        for channel, wavelength in self.emission_um.items():
            if not 0.3 <= wavelength <= 1.2:
                raise ValueError(
                    f"emission_um[{channel!r}]={wavelength} is not a visible/NIR wavelength "
                    "in um (did you give nm? 525 nm is 0.525)"
                )
            nyquist = wavelength / (4 * self.na)
            if self.pixel_size_um > nyquist:
                raise ValueError(
                    f"pixel_size_um={self.pixel_size_um} is above the Nyquist limit "
                    f"{nyquist:.4f} um (lambda/4NA) of channel {channel!r}: the camera would "
                    "alias the wide-field image; use a smaller pixel or a higher magnification"
                )
        return self

    @property
    def channels(self) -> tuple[str, ...]:
        """Channel names in configuration order."""
        return tuple(self.emission_um)

    def wavelength_um(self, channel: str | None = None) -> float:
        """Emission wavelength of `channel` (the first channel when None)."""
        if channel is None:
            return next(iter(self.emission_um.values()))
        try:
            return self.emission_um[channel]
        except KeyError:
            raise KeyError(
                f"channel {channel!r} is not in the optics config; known: {self.channels}"
            ) from None

    def cutoff_per_um(self, channel: str | None = None) -> float:
        """Incoherent OTF cutoff 2 NA / lambda in cycles per um."""
        return 2 * self.na / self.wavelength_um(channel)

    @classmethod
    def single(cls, *, na: float, wavelength_um: float, pixel_size_um: float) -> OpticsConfig:
        """Optics of one unnamed channel (``"default"``), as the CLI builds them."""
        return cls(na=na, emission_um={"default": wavelength_um}, pixel_size_um=pixel_size_um)


class PatternConfig(FrozenConfig):
    """Illumination pattern of SIM: orientations, phase steps, frequency, modulation.

    Frames are ordered angle-major, phase-minor everywhere in livesr. The illumination of angle
    d and phase p is ``1 + m cos(phi) + sum_h m_h cos(h phi)``, ``phi = 2 pi k_d . r + 2 pi p /
    n_phases``, with harmonics h = 2, 3, ... from `nonlinear_harmonics`.

    Attributes
    ----------
    n_angles, n_phases : int
        Pattern orientations and phase steps per orientation.
    k0_fraction : float or None
        Pattern frequency as a fraction of the detection OTF cutoff 2 NA / lambda.
    k0_per_um : float or None
        Pattern frequency in cycles per um; overrides `k0_fraction` when given.
    angle_offset_deg : float
        Orientation of the first angle; the others follow at 180 / n_angles degrees.
    modulation : float
        First-order modulation depth m (0-1).
    nonlinear_harmonics : tuple of float
        Strengths of harmonics 2, 3, ... for nonlinear SIM (empty for linear SIM).
    """

    n_angles: int = Field(3, ge=1, le=12)
    n_phases: int = Field(3, ge=1, le=12)
    k0_fraction: float | None = Field(0.9, gt=0.0, lt=2.0)
    k0_per_um: float | None = Field(None, gt=0.0)
    angle_offset_deg: float = 8.0
    modulation: float = Field(0.8, ge=0.0, le=1.0)
    nonlinear_harmonics: tuple[float, ...] = ()

    @model_validator(mode="after")
    def _check_bands(self) -> Self:
        if self.k0_fraction is None and self.k0_per_um is None:
            raise ValueError("give the pattern frequency as k0_fraction or k0_per_um")
        needed = 2 * self.n_orders + 1
        if self.n_phases < needed:
            raise ValueError(
                f"n_phases={self.n_phases} is too few: separating orders 0..+-{self.n_orders} "
                f"needs at least {needed} phases (2 x orders + 1)"
            )
        for h, strength in enumerate(self.nonlinear_harmonics, start=2):
            if not 0.0 <= strength <= 1.0:
                raise ValueError(
                    f"nonlinear_harmonics: strength of harmonic {h} must be in [0, 1]"
                )
        return self

    @property
    def n_orders(self) -> int:
        """Highest band order (1 for linear SIM, 2 with one nonlinear harmonic)."""
        return 1 + len(self.nonlinear_harmonics)

    @property
    def n_frames(self) -> int:
        """Raw frames per SIM stack (n_angles x n_phases)."""
        return self.n_angles * self.n_phases

    @property
    def mode(self) -> Literal["linear", "nonlinear"]:
        """``"nonlinear"`` when harmonics beyond the first are present."""
        return "nonlinear" if self.nonlinear_harmonics else "linear"

    @classmethod
    def linear(cls, **overrides: Any) -> PatternConfig:
        """Linear 2D SIM: 3 angles x 3 phases."""
        return cls(**{"n_angles": 3, "n_phases": 3, **overrides})

    @classmethod
    def nonlinear(cls, **overrides: Any) -> PatternConfig:
        """Nonlinear SIM: 5 angles x 5 phases with a second harmonic (x3 output)."""
        base: dict[str, Any] = {
            "n_angles": 5,
            "n_phases": 5,
            "k0_fraction": 0.9,
            "nonlinear_harmonics": (0.3,),
        }
        return cls(**{**base, **overrides})


class CameraConfig(FrozenConfig):
    """sCMOS camera model: photons -> electrons -> ADU.

    Attributes
    ----------
    qe : float
        Quantum efficiency (0-1).
    read_noise_e : float
        Gaussian read noise, electrons rms.
    offset_adu : float
        Constant offset (bias) in ADU.
    gain_e_per_adu : float
        Electrons per ADU.
    bit_depth : int
        ADU are clipped to [0, 2**bit_depth - 1].
    background_photons : float
        Uniform background (autofluorescence, out-of-focus light) in photons per pixel.
    """

    qe: float = Field(0.8, gt=0.0, le=1.0)
    read_noise_e: float = Field(1.5, ge=0.0)
    offset_adu: float = Field(100.0, ge=0.0)
    gain_e_per_adu: float = Field(0.46, gt=0.0)
    bit_depth: int = Field(16, ge=8, le=16)
    background_photons: float = Field(5.0, ge=0.0)

    @property
    def max_adu(self) -> int:
        """Largest value the camera can report."""
        return int(2**self.bit_depth - 1)
