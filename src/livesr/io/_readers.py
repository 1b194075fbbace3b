"""Readers for raw SIM stacks and measured OTFs: TIFF stacks, folders of TIFFs, MRC files.

Frames are returned angle-major, phase-minor, as livesr orders them everywhere. BioSR and
rDL-SIM files are DeltaVision/Priism-style MRC files that strict `mrcfile` rejects (no ``MAP ``
id, zero machine stamp), so MRC files are opened with ``permissive=True``.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["MeasuredOTF", "RawStack", "read_otf", "read_stack"]

_TIFF_SUFFIXES = (".tif", ".tiff")
_MRC_SUFFIXES = (".mrc", ".dv", ".otf")


@dataclass(frozen=True)
class RawStack:
    """Raw frames read from disk.

    Attributes
    ----------
    data : ndarray, shape (F, Y, X)
        Frames in file order (angle-major for SIM), dtype as stored (usually uint16).
    pixel_size_um : float or None
        Pixel size from the file header, when the file records one.
    source : Path
        The file or folder read.
    """

    data: NDArray[np.generic]
    pixel_size_um: float | None
    source: Path


@dataclass(frozen=True)
class MeasuredOTF:
    """A measured, rotationally symmetric OTF.

    Attributes
    ----------
    radial : ndarray, float64, shape (n,)
        |OTF| at ``k = i * dk_per_um``, normalised to 1 at DC.
    dk_per_um : float
        Sample spacing in cycles per um.
    source : Path
        The file read.
    """

    radial: NDArray[np.float64]
    dk_per_um: float
    source: Path


def _natural_key(path: Path) -> list[int | str]:
    # "frame_2" before "frame_10": split digits so they compare as numbers.
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _open_mrc(path: Path):  # type: ignore[no-untyped-def]
    try:
        import mrcfile
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("reading MRC files needs mrcfile: pip install 'livesr[io]'") from exc
    with warnings.catch_warnings():
        # DeltaVision headers always trigger these; they are expected, not news.
        warnings.simplefilter("ignore", RuntimeWarning)
        return mrcfile.open(path, permissive=True, mode="r")


def _read_mrc(path: Path) -> RawStack:
    try:
        mrc = _open_mrc(path)
    except (ValueError, OSError) as exc:
        raise ValueError(f"{path}: not a readable MRC file ({exc})") from exc
    with mrc:
        if mrc.data is None:
            raise ValueError(f"{path}: the MRC header was read but the file holds no data")
        data = np.array(mrc.data)
        voxel = float(mrc.voxel_size.x)
    if data.ndim == 2:
        data = data[np.newaxis]
    if data.ndim != 3:
        raise ValueError(f"{path}: expected a 2D or 3D MRC image, got shape {data.shape}")
    # Priism files store the pixel in um; 0 or 1 means "not recorded".
    pixel = voxel if 0.0 < voxel < 1.0 else None
    return RawStack(data, pixel, path)


def _read_tiff(path: Path) -> NDArray[np.generic]:
    import tifffile

    try:
        data = np.asarray(tifffile.imread(path))
    except Exception as exc:
        raise ValueError(f"{path}: not a readable TIFF file ({exc})") from exc
    return data


def read_stack(path: str | Path, *, glob: str = "*") -> RawStack:
    """Read raw frames from a TIFF stack, a folder of single-frame TIFFs or an MRC file.

    Parameters
    ----------
    path : str or Path
        A multi-page TIFF (``.tif``/``.tiff``), an MRC/DeltaVision file (``.mrc``/``.dv``), or
        a folder whose TIFF files (sorted by name, numbers compared as numbers) are the frames.
    glob : str
        For folders: only files matching this pattern (for example ``"HE_0*.tif"``).

    Returns
    -------
    RawStack
        ``data`` has shape (F, Y, X) in file order; a single 2D image gives F = 1. Extra leading
        axes of a TIFF (for example (angles, phases, Y, X)) are flattened in C order.

    Raises
    ------
    FileNotFoundError
        If `path` does not exist or a folder holds no TIFF files.
    ValueError
        If a file cannot be decoded, or a folder's frames differ in shape.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"input {path} does not exist: give a TIFF, MRC or folder path")
    if path.is_dir():
        files = sorted(
            (p for p in path.glob(glob) if p.suffix.lower() in _TIFF_SUFFIXES),
            key=_natural_key,
        )
        if not files:
            raise FileNotFoundError(
                f"folder {path} holds no TIFF files matching {glob!r}: frames must be "
                "single-page .tif/.tiff files"
            )
        frames = [_read_tiff(f) for f in files]
        shapes = {f.shape for f in frames}
        if len(shapes) != 1 or frames[0].ndim != 2:
            raise ValueError(
                f"folder {path}: every TIFF must be one 2D frame of the same size, got shapes "
                f"{sorted(shapes)}"
            )
        return RawStack(np.stack(frames), None, path)
    suffix = path.suffix.lower()
    if suffix in _MRC_SUFFIXES:
        return _read_mrc(path)
    if suffix in _TIFF_SUFFIXES:
        data = _read_tiff(path)
        if data.ndim < 2:
            raise ValueError(f"{path}: expected an image, got an array of shape {data.shape}")
        return RawStack(data.reshape(-1, *data.shape[-2:]), None, path)
    raise ValueError(
        f"{path}: unknown file type {suffix!r}; use a TIFF stack (.tif), an MRC file (.mrc) or "
        "a folder of TIFF frames"
    )


def read_otf(path: str | Path, *, dk_per_um: float | None = None) -> MeasuredOTF:
    """Read a measured radial OTF (the BioSR/rDL-SIM ``*_OTF2d.mrc`` files).

    Parameters
    ----------
    path : str or Path
        An MRC file whose first row holds the radial OTF samples (complex or real), with the
        sample spacing (cycles per um) in the header's voxel size, or a ``.npy``/``.txt``/
        ``.csv`` file of samples (then `dk_per_um` is required).
    dk_per_um : float, optional
        Sample spacing; overrides the header.

    Returns
    -------
    MeasuredOTF
        Magnitudes normalised to 1 at DC.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the spacing is unknown or the samples are unusable.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"OTF file {path} does not exist: give a radial OTF .mrc (for example "
            "TIRF488_cam1_0_z30_OTF2d.mrc) or omit --otf to use the ideal OTF"
        )
    header_dk: float | None = None
    if path.suffix.lower() == ".npy":
        samples = np.load(path)
    elif path.suffix.lower() in (".txt", ".csv"):
        samples = np.loadtxt(path, delimiter="," if path.suffix.lower() == ".csv" else None)
    else:
        try:
            mrc = _open_mrc(path)
        except (ValueError, OSError) as exc:
            raise ValueError(f"OTF file {path}: not a readable MRC file ({exc})") from exc
        with mrc:
            samples = np.array(mrc.data)
            header_dk = float(mrc.voxel_size.x) or None
    dk = dk_per_um if dk_per_um is not None else header_dk
    if dk is None or not dk > 0:
        raise ValueError(
            f"OTF file {path}: the radial sample spacing is unknown; pass dk_per_um "
            "(cycles per um between samples)"
        )
    radial = np.abs(np.asarray(samples)).astype(np.float64)
    radial = radial.reshape(-1, radial.shape[-1])[0] if radial.ndim > 1 else radial.ravel()
    if radial.size < 2 or not np.isfinite(radial).all() or radial[0] <= 0:
        raise ValueError(
            f"OTF file {path}: needs at least two finite radial samples with a positive DC "
            "value (the first sample)"
        )
    return MeasuredOTF(radial / radial[0], float(dk), path)
