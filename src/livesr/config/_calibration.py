"""A microscope's SIM calibration: the pattern it makes, measured once on a good acquisition.

`livesr calibrate RAW... --out cal.yaml` writes one (several stacks pooled, see
`livesr.reconstruct.conventional.calibrate`); `reconstruct`, the Wiener reconstructor and the
live pipeline read it. Per run only what drifts (phases, modulation) is refitted, with k held
within 1 % of the calibration; an orientation whose refit is rejected uses the calibration's
values and says so. Kept in its own module (not `config.py`) because it is an instrument record,
not a run setting.
"""

from __future__ import annotations

import math
from pathlib import Path

from pydantic import Field, model_validator
from typing_extensions import Self

from ._base import FrozenConfig

__all__ = ["Calibration", "ChannelCalibration", "OrientationCalibration"]


class OrientationCalibration(FrozenConfig):
    """The pattern of one orientation.

    Attributes
    ----------
    k_per_um : (ky, kx)
        First-order wave vector in cycles per um (band n sits at ``n k``).
    phases_rad : tuple of float
        Phase of each frame in radians (first frame 0 unless a global offset is kept);
        ``2 pi p / P`` for ideal equidistant steps.
    order_phases_rad : tuple of float
        Global phase of each order (1, 2, ...) measured at calibration (drifts; refitted).
    modulation : tuple of float
        Modulation depth of each order (1, 2, ...).
    confidence : float or None
        Carrier peak over ring median when it was measured (None: written by hand).
    """

    k_per_um: tuple[float, float]
    phases_rad: tuple[float, ...] = Field(min_length=3)
    order_phases_rad: tuple[float, ...] = ()
    modulation: tuple[float, ...] = Field(min_length=1)
    confidence: float | None = None

    @property
    def k_magnitude_per_um(self) -> float:
        """|k| in cycles per um."""
        return math.hypot(*self.k_per_um)

    @property
    def angle_deg(self) -> float:
        """Orientation of k, degrees."""
        return math.degrees(math.atan2(self.k_per_um[0], self.k_per_um[1]))


class ChannelCalibration(FrozenConfig):
    """The pattern and detection of one channel (excitation / emission wavelength).

    Attributes
    ----------
    emission_um : float
        Emission wavelength the OTF belongs to.
    na : float
        Detection NA (sets the OTF cutoff 2 NA / lambda).
    otf_path : str or None
        Measured radial OTF file (`livesr.io.read_otf`), relative to the calibration file;
        None = ideal OTF.
    orientations : tuple of OrientationCalibration
        In acquisition order (angle-major frames).
    """

    emission_um: float = Field(gt=0.3, lt=1.2)
    na: float = Field(gt=0.0, le=1.7)
    otf_path: str | None = None
    orientations: tuple[OrientationCalibration, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_shapes(self) -> Self:
        phases = {len(o.phases_rad) for o in self.orientations}
        orders = {len(o.modulation) for o in self.orientations}
        if len(phases) != 1 or len(orders) != 1:
            raise ValueError("every orientation needs the same number of phases and orders")
        return self

    @property
    def cutoff_per_um(self) -> float:
        """OTF cutoff 2 NA / lambda, cycles per um."""
        return 2 * self.na / self.emission_um


class Calibration(FrozenConfig):
    """An instrument's SIM pattern per channel plus its camera; YAML/JSON round trip.

    Attributes
    ----------
    pixel_size_um : float
        Camera pixel in the sample.
    camera_offset_adu : float or None
        Camera offset (bias); None = estimated from each stack's darkest pixels.
    camera_gain_e_per_adu : float or None
        Electrons per ADU; None = counts stay in ADU.
    channels : dict[str, ChannelCalibration]
        Per channel name (as in `OpticsConfig.emission_um`, e.g. ``"488"``).
    source : str
        What it was measured on (files, stacks pooled, livesr version).
    """

    version: int = Field(1, ge=1, le=1)
    pixel_size_um: float = Field(gt=0.0)
    camera_offset_adu: float | None = None
    camera_gain_e_per_adu: float | None = Field(None, gt=0.0)
    channels: dict[str, ChannelCalibration] = Field(min_length=1)
    source: str = ""

    def channel(self, name: str | None = None) -> ChannelCalibration:
        """The calibration of channel `name` (the only / first one when None).

        Raises
        ------
        KeyError
            If `name` is not calibrated; the message lists the calibrated channels.
        """
        if name is None or (name not in self.channels and len(self.channels) == 1):
            return next(iter(self.channels.values()))
        try:
            return self.channels[name]
        except KeyError:
            raise KeyError(
                f"channel {name!r} is not in the calibration; calibrated: {sorted(self.channels)}"
            ) from None

    def otf_file(self, name: str | None, base: str | Path | None) -> Path | None:
        """The measured OTF path of a channel, resolved against `base` (the file's folder)."""
        rel = self.channel(name).otf_path
        if rel is None:
            return None
        path = Path(rel)
        return path if path.is_absolute() or base is None else Path(base) / path
