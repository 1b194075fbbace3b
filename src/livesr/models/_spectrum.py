"""Shifted magnitude spectrum of the Fourier channel attention, with and without an FFT.

The authors' FCA layer (qc17-THU/DL-SR, ``common.py``) computes, per channel,
``resize_128(fftshift((|FFT2(x)| + 1e-8) ** gamma))`` with TF1's legacy bilinear resize
(``src = dst * n_in / n_out``, no half-pixel offset). TensorRT's ONNX parser cannot run a DFT
node before 11.2, so besides the ``torch.fft`` reference this module computes the same spectrum
with constant DFT matrices (two MatMuls, the fftshift folded into the matrix rows):

``"fft"``
    torch.fft.fft2 + roll: the reference. Exports a DFT node (not TensorRT-compatible).
``"dft"``
    full N-point DFT matrices, then the resize as two small interpolation matrices.
    Costs O(N^3) per channel: fine at 128, expensive at 512.
``"tiled"``
    the same numbers for less work. Where a side N is a multiple of ``size_psc`` P, the
    asymmetric resize picks every (N/P)-th shifted frequency, which is exactly the P-point DFT
    of the image folded (summed) over its N/P tiles, so the cost stays that of a P x P DFT
    whatever N is. Other sides only compute the (at most 2P) frequencies the resize reads.

All matrices are built in float64 numpy with exact integer phases ``(k * n) mod N`` and cached
per (size, device, dtype); they enter exported graphs as constants.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

__all__ = [
    "SPECTRUM_MODES",
    "SpectralMagnitude",
    "SpectrumMode",
    "dynamic_spectrum",
    "legacy_resize_matrix",
]

SpectrumMode = Literal["fft", "dft", "tiled"]
SPECTRUM_MODES: tuple[str, ...] = ("fft", "dft", "tiled")


def legacy_resize_matrix(n_in: int, n_out: int) -> NDArray[np.float64]:
    """TF1 ``resize_images(method=BILINEAR, align_corners=False)`` as a matrix.

    Parameters
    ----------
    n_in, n_out : int
        Input and output length along one axis.

    Returns
    -------
    ndarray, float64, shape (n_out, n_in)
        ``out = R @ in`` along that axis; the identity when ``n_in == n_out``.
    """
    src = np.arange(n_out, dtype=np.float64) * (n_in / n_out)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    frac = src - i0
    mat = np.zeros((n_out, n_in), dtype=np.float64)
    rows = np.arange(n_out)
    np.add.at(mat, (rows, i0), 1.0 - frac)
    np.add.at(mat, (rows, i1), frac)
    return mat


def _shifted_frequencies(n: int) -> NDArray[np.int64]:
    # The authors' fftshift swaps quadrants: row j holds frequency (j + n // 2) mod n. That is
    # np.fft.fftshift for even n and np.fft.ifftshift for odd n.
    return (np.arange(n, dtype=np.int64) + n // 2) % n


def _dft_rows(freqs: NDArray[np.int64], n: int) -> tuple[NDArray[np.float64], ...]:
    """Cos and sin rows (len(freqs), n) of the n-point DFT for the given frequencies."""
    phase = (freqs[:, None] * np.arange(n, dtype=np.int64)[None, :]) % n  # exact integer phase
    angle = (2.0 * np.pi / n) * phase.astype(np.float64)
    return np.cos(angle), np.sin(angle)


@dataclass(frozen=True)
class _AxisPlan:
    """How one axis of the spectrum is computed.

    fold: tiles of this length are summed first (0: no folding); dft: (2 * n_freq, n) stacked
    [cos; sin] rows in shifted order; interp: (P, n_freq) resize matrix or None (identity).
    """

    fold: int
    dft: NDArray[np.float64]
    interp: NDArray[np.float64] | None


@functools.lru_cache(maxsize=64)
def _axis_plan(n: int, size_psc: int | None, mode: str) -> _AxisPlan:
    if size_psc is None or size_psc == n:
        cos, sin = _dft_rows(_shifted_frequencies(n), n)
        return _AxisPlan(0, np.concatenate([cos, sin]), None)
    if mode == "tiled" and n % size_psc == 0:
        cos, sin = _dft_rows(_shifted_frequencies(size_psc), size_psc)
        return _AxisPlan(size_psc, np.concatenate([cos, sin]), None)
    resize = legacy_resize_matrix(n, size_psc)
    shifted = _shifted_frequencies(n)
    if mode == "tiled":
        # Only the shifted rows the bilinear resize reads (at most 2 * size_psc).
        used = np.flatnonzero(np.abs(resize).sum(axis=0) > 0)
        cos, sin = _dft_rows(shifted[used], n)
        return _AxisPlan(0, np.concatenate([cos, sin]), resize[:, used])
    cos, sin = _dft_rows(shifted, n)
    return _AxisPlan(0, np.concatenate([cos, sin]), resize)


@functools.lru_cache(maxsize=16)
def _half_plan(nh: int, nw: int) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Half-spectrum columns and the Gather index that rebuilds the shifted full spectrum.

    Returns the (nw, 2 nq) [cos | sin] matrix of columns k2 = 0 .. nw // 2 (nq of them) and,
    for every shifted output pixel (j1, j2), the flat index into the (nh, nq) half magnitude
    whose rows are already in shifted order.
    """
    nq = nw // 2 + 1
    cos, sin = _dft_rows(np.arange(nq, dtype=np.int64), nw)
    k1 = _shifted_frequencies(nh)[:, None]  # frequency of output row j1
    k2 = _shifted_frequencies(nw)[None, :]
    direct = k2 <= nw // 2
    # Mirrored pixels read frequency (-k1, -k2); row of -k1 in shifted order:
    mirror_row = ((-k1) % nh - nh // 2) % nh
    rows = np.where(direct, np.arange(nh)[:, None], mirror_row)
    cols = np.where(direct, k2, (-k2) % nw)
    return np.concatenate([cos, sin]).T.copy(), (rows * nq + cols).reshape(-1)


_TENSOR_CACHE: dict[tuple[object, ...], torch.Tensor] = {}


def _constant(
    key: tuple[object, ...], array: NDArray[np.float64], like: torch.Tensor
) -> torch.Tensor:
    full_key = (*key, like.device, like.dtype)
    tensor = _TENSOR_CACHE.get(full_key)
    if tensor is None:
        # A normal tensor even when first built under inference_mode (live reconstruction):
        # an inference tensor in the process-wide cache would break a later training step.
        with torch.inference_mode(False):
            tensor = torch.from_numpy(np.ascontiguousarray(array)).to(like.device, like.dtype)
        _TENSOR_CACHE[full_key] = tensor
    return tensor


def _magnitude_power(re: torch.Tensor, im: torch.Tensor, gamma: float) -> torch.Tensor:
    # The tiny term keeps the gradient finite where the spectrum is exactly zero; it is
    # (1e-8)^2, far below the fp32 resolution of any non-zero magnitude.
    mag = torch.sqrt(re * re + im * im + 1e-16)
    return torch.pow(mag + 1e-8, gamma)


def _dynamic_axis(
    n: torch.Tensor, size_psc: int | None, dtype: torch.dtype, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """Cos rows, sin rows and resize matrix of one axis of (traced) length ``n``."""
    samples = torch.arange(n, device=device)  # type: ignore[call-overload]  # traced 0-d end
    if size_psc is None:
        rows = samples
        interp = None
    else:
        dst = (
            torch.arange(size_psc, device=device) * n
        )  # integer legacy sampling: src = dst * N / P
        i0 = torch.div(dst, size_psc, rounding_mode="floor")
        frac = (dst - i0 * size_psc).to(dtype) / size_psc
        i1 = torch.minimum(i0 + 1, n - 1)
        rows = torch.cat([i0, i1])
        eye = torch.eye(size_psc, dtype=dtype, device=device)
        interp = torch.cat([eye * (1.0 - frac)[:, None], eye * frac[:, None]], dim=1)
    freqs = torch.remainder(rows + torch.div(n, 2, rounding_mode="floor"), n)
    phase = torch.remainder(freqs[:, None] * samples[None, :], n)  # exact integer phase
    angle = phase.to(dtype) * (2.0 * math.pi) / n.to(dtype)
    return torch.cos(angle), torch.sin(angle), interp


class SpectralMagnitude(nn.Module):
    """``resize(fftshift((|FFT2(x)| + 1e-8) ** gamma))``, the input of the FCA convolution.

    Parameters
    ----------
    gamma : float
        Power applied to the magnitude (0.8 in DFCAN, 0.1 in DFGAN).
    mode : {"tiled", "dft", "fft"}
        How the spectrum is computed (module docstring). All three agree to fp32 round-off.
    size_psc : int or None
        Side of the resized spectrum (the authors' 128). None keeps the input size.

    Notes
    -----
    Input (B, C, H, W) float32 or float64; output (B, C, P, P) in the input dtype, P = size_psc
    (or (B, C, H, W) when size_psc is None). Callers keep this in fp32: the unscaled spectrum
    overflows fp16. Stateless apart from a process-wide constant cache; safe to call from one
    thread at a time per device.
    """

    def __init__(
        self, gamma: float = 0.8, mode: SpectrumMode = "tiled", size_psc: int | None = 128
    ) -> None:
        super().__init__()
        if mode not in SPECTRUM_MODES:
            raise ValueError(f"spectrum mode {mode!r} is unknown; use one of {SPECTRUM_MODES}")
        if size_psc is not None and size_psc < 1:
            raise ValueError(f"size_psc must be a positive size or None, got {size_psc}")
        self.gamma = float(gamma)
        self.mode: SpectrumMode = mode
        self.size_psc = size_psc
        # Set by `dynamic_spectrum` while exporting graphs with free frame sizes.
        self.dynamic_shapes = False

    def extra_repr(self) -> str:
        return f"gamma={self.gamma}, mode={self.mode!r}, size_psc={self.size_psc}"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4:
            raise ValueError(f"expected (B, C, H, W) features, got shape {tuple(x.shape)}")
        if self.dynamic_shapes and self.mode != "fft":
            return self._dynamic(x)
        # Python ints: frame sizes are frozen into constants (one graph per camera ROI).
        height, width = int(x.shape[-2]), int(x.shape[-1])
        if self.mode == "fft":
            return self._fft(x, height, width)
        plan_h = _axis_plan(height, self.size_psc, self.mode)
        plan_w = _axis_plan(width, self.size_psc, self.mode)
        if plan_h.fold:
            x = x.reshape(x.shape[0], x.shape[1], height // plan_h.fold, plan_h.fold, width)
            x = x.sum(2)
        if plan_w.fold:
            x = x.reshape(x.shape[0], x.shape[1], x.shape[2], width // plan_w.fold, plan_w.fold)
            x = x.sum(3)
        key_h = ("dft", "h", height, self.size_psc, self.mode)
        key_w = ("dft", "w", width, self.size_psc, self.mode)
        gh = _constant(key_h, plan_h.dft, x)  # (2 nh, H')
        if self.mode == "tiled" and plan_h.interp is None and plan_w.interp is None:
            return self._half_spectrum(x, gh)
        gw = _constant(key_w, plan_w.dft.T, x)  # (W', 2 nw)
        nh, nw = gh.shape[0] // 2, gw.shape[1] // 2
        z = torch.matmul(gh, torch.matmul(x, gw))  # [[C A, C B], [S A, S B]]
        re = z[..., :nh, :nw] - z[..., nh:, nw:]
        im = z[..., :nh, nw:] + z[..., nh:, :nw]
        spec = _magnitude_power(re, im, self.gamma)
        return self._resize(spec, plan_h.interp, plan_w.interp, key_h, key_w)

    def _half_spectrum(self, x: torch.Tensor, gh: torch.Tensor) -> torch.Tensor:
        # Real input: |X[k1, k2]| = |X[-k1, -k2]|, so only columns k2 = 0 .. W/2 are
        # transformed (half the MatMul work) and the rest is one constant-index Gather.
        nh, nw = int(x.shape[-2]), int(x.shape[-1])
        gw_half, index = _half_plan(nh, nw)
        gw = _constant(("half", nh, nw), gw_half, x)  # (W', 2 nq)
        nq = gw.shape[1] // 2
        z = torch.matmul(gh, torch.matmul(x, gw))
        re = z[..., :nh, :nq] - z[..., nh:, nq:]
        im = z[..., :nh, nq:] + z[..., nh:, :nq]
        half = _magnitude_power(re, im, self.gamma)  # (B, C, nh, nq), rows shifted
        flat_index = _TENSOR_CACHE.get(("gather", nh, nw, x.device))
        if flat_index is None:
            with torch.inference_mode(False):  # cached: see _constant
                flat_index = torch.from_numpy(index).to(x.device)
            _TENSOR_CACHE[("gather", nh, nw, x.device)] = flat_index
        full = torch.index_select(half.flatten(-2), -1, flat_index)
        return full.reshape(full.shape[0], full.shape[1], nh, nw)

    def _dynamic(self, x: torch.Tensor) -> torch.Tensor:
        # Shape-generic graph: the DFT and resize matrices are computed from the input shape
        # with integer arithmetic (Shape, Range, Div, Mod, Cos, Sin: all in TensorRT's ONNX
        # parser), and only the 2 * size_psc rows the resize reads are transformed.
        shape = torch._shape_as_tensor(x)
        cos_h, sin_h, interp_h = _dynamic_axis(shape[-2], self.size_psc, x.dtype, x.device)
        cos_w, sin_w, interp_w = _dynamic_axis(shape[-1], self.size_psc, x.dtype, x.device)
        a = torch.matmul(x, cos_w.transpose(0, 1))
        b = torch.matmul(x, sin_w.transpose(0, 1))
        re = torch.matmul(cos_h, a) - torch.matmul(sin_h, b)
        im = torch.matmul(cos_h, b) + torch.matmul(sin_h, a)
        spec = _magnitude_power(re, im, self.gamma)
        if interp_h is not None and interp_w is not None:
            spec = torch.matmul(torch.matmul(interp_h, spec), interp_w.transpose(0, 1))
        return spec

    def _fft(self, x: torch.Tensor, height: int, width: int) -> torch.Tensor:
        spec = torch.pow(torch.abs(torch.fft.fft2(x)) + 1e-8, self.gamma)
        # torch.roll: out[j] = in[j - shift]; the authors' shift reads in[j + n // 2].
        spec = torch.roll(spec, shifts=(-(height // 2), -(width // 2)), dims=(-2, -1))
        plan_h = _axis_plan(height, self.size_psc, "dft")
        plan_w = _axis_plan(width, self.size_psc, "dft")
        key_h = ("fft", "h", height, self.size_psc)
        key_w = ("fft", "w", width, self.size_psc)
        return self._resize(spec, plan_h.interp, plan_w.interp, key_h, key_w)

    @staticmethod
    def _resize(
        spec: torch.Tensor,
        interp_h: NDArray[np.float64] | None,
        interp_w: NDArray[np.float64] | None,
        key_h: tuple[object, ...],
        key_w: tuple[object, ...],
    ) -> torch.Tensor:
        if interp_h is not None:
            spec = torch.matmul(_constant(("interp", *key_h), interp_h, spec), spec)
        if interp_w is not None:
            spec = torch.matmul(spec, _constant(("interp", *key_w), interp_w.T, spec))
        return spec


@contextmanager
def dynamic_spectrum(model: nn.Module) -> Iterator[None]:
    """Let every `SpectralMagnitude` in ``model`` build its matrices from the input shape.

    For exporting graphs with free frame sizes; the previous setting is restored on exit.
    """
    modules = [m for m in model.modules() if isinstance(m, SpectralMagnitude)]
    before = [m.dynamic_shapes for m in modules]
    for module in modules:
        module.dynamic_shapes = True
    try:
        yield
    finally:
        for module, flag in zip(modules, before, strict=True):
            module.dynamic_shapes = flag
