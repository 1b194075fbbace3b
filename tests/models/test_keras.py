"""Converting the authors' Keras HDF5 weights (synthetic files in the Keras layout)."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from livesr.models import DFCAN, DFGANDiscriminator, convert_keras_h5, load_weights, save_weights
from livesr.models._keras import pre_shuffle_from_keras

TINY = {"groups": 2, "blocks": 2, "width": 16, "size_psc": 16}


def tf_depth_to_space(x: np.ndarray, s: int) -> np.ndarray:
    """TF depth_to_space on NHWC: out[y*s + i, x*s + j, c] = in[y, x, (i*s + j)*C + c]."""
    n, h, w, depth = x.shape
    c = depth // (s * s)
    return x.reshape(n, h, w, s, s, c).transpose(0, 1, 3, 2, 4, 5).reshape(n, h * s, w * s, c)


def keras_kernels(model: nn.Module, scale: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """What Keras would store for this network: HWIO kernels, TF channel order before shuffle."""
    shuffle_conv = model.upsample[0] if isinstance(model, DFCAN) else None
    out = []
    for m in model.modules():
        if not isinstance(m, (nn.Conv2d, nn.Linear)):
            continue
        w = m.weight.detach().numpy()
        b = m.bias.detach().numpy()
        if m is shuffle_conv:
            c = w.shape[0] // (scale * scale)
            w = w.reshape(c, scale * scale, *w.shape[1:]).transpose(1, 0, 2, 3, 4).reshape(w.shape)
            b = b.reshape(c, scale * scale).T.reshape(-1)
        out.append((w.transpose(2, 3, 1, 0) if w.ndim == 4 else w.T, b))
    return out


def write_keras_h5(path: Path, kernels: list[tuple[np.ndarray, np.ndarray]], saved: bool) -> None:
    """A file in the layout of Keras 2 save_weights (or model.save with saved=True)."""
    with h5py.File(path, "w") as fh:
        root = fh.create_group("model_weights") if saved else fh
        names: list[str] = ["input_1"]
        root.create_group("input_1").attrs["weight_names"] = np.array([], dtype="S")
        for index, (kernel, bias) in enumerate(kernels):
            # Suffixes deliberately not in build order: the converter must use file order.
            layer = f"conv2d_{1000 - index}" if kernel.ndim == 4 else f"dense_{50 - index}"
            group = root.create_group(layer)
            group.attrs["weight_names"] = np.array(
                [f"{layer}/kernel:0".encode(), f"{layer}/bias:0".encode()]
            )
            group.create_dataset(f"{layer}/kernel:0", data=kernel)
            group.create_dataset(f"{layer}/bias:0", data=bias)
            names.append(layer)
            if index % 5 == 1:
                names.append(f"lambda_{index}")
                root.create_group(f"lambda_{index}").attrs["weight_names"] = np.array([], "S")
        root.attrs["layer_names"] = np.array([n.encode() for n in names])
        root.attrs["keras_version"] = b"2.2.4"


def test_pixel_shuffle_permutation_reproduces_tf_depth_to_space() -> None:
    rng = np.random.default_rng(0)
    scale, c_in, c = 3, 5, 4
    kernel = rng.standard_normal((3, 3, c_in, c * scale * scale)).astype(np.float32)
    bias = rng.standard_normal(c * scale * scale).astype(np.float32)
    x = rng.standard_normal((1, c_in, 6, 7)).astype(np.float32)
    # Keras: conv in TF channel order, then depth_to_space (NHWC).
    tf_feat = F.conv2d(
        torch.from_numpy(x), torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy()),
        torch.from_numpy(bias), padding=1,
    ).numpy()  # fmt: skip
    expected = tf_depth_to_space(tf_feat.transpose(0, 2, 3, 1), scale).transpose(0, 3, 1, 2)
    weight, bias_t = pre_shuffle_from_keras(kernel, bias, scale)
    got = nn.PixelShuffle(scale)(F.conv2d(torch.from_numpy(x), weight, bias_t, padding=1))
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("saved", [False, True])
def test_converted_dfcan_reproduces_the_keras_network(tmp_path: Path, saved: bool) -> None:
    torch.manual_seed(3)
    original = DFCAN(9, 2, **TINY).eval()  # type: ignore[arg-type]
    path = tmp_path / "weights.best"
    write_keras_h5(path, keras_kernels(original, 2), saved)

    converted, card = convert_keras_h5(path, "dfcan", 9, 2, options=TINY)
    assert card.source == "keras"
    x = torch.rand(1, 9, 20, 20)
    with torch.inference_mode():
        torch.testing.assert_close(converted(x), original(x), rtol=1e-6, atol=1e-6)
    # The converted network saves and reloads like any trained one.
    save_weights(converted, tmp_path / "dfcan-keras.safetensors", card)
    reloaded, _ = load_weights(tmp_path / "dfcan-keras.safetensors")
    with torch.inference_mode():
        torch.testing.assert_close(reloaded(x), original(x), rtol=1e-6, atol=1e-6)


def test_full_size_dfcan_file_has_83_conv_layers(tmp_path: Path) -> None:
    kernels = keras_kernels(DFCAN(9, 2), 2)
    assert len(kernels) == 83
    write_keras_h5(tmp_path / "w.h5", kernels, saved=False)
    model, _ = convert_keras_h5(tmp_path / "w.h5", "dfcan", 9, 2)
    assert sum(p.numel() for p in model.parameters()) == 1_935_361


def test_discriminator_dense_layers_convert(tmp_path: Path) -> None:
    torch.manual_seed(4)
    original = DFGANDiscriminator(widths=(4, 8), stem=4, dense=8).eval()
    write_keras_h5(tmp_path / "d.h5", keras_kernels(original, 1), saved=False)
    converted, _ = convert_keras_h5(
        tmp_path / "d.h5", "dfgan_discriminator", 1, 1,
        options={"widths": (4, 8), "stem": 4, "dense": 8},
    )  # fmt: skip
    x = torch.rand(2, 1, 16, 16)
    torch.testing.assert_close(converted(x), original(x))


def test_wrong_architecture_is_a_clear_error(tmp_path: Path) -> None:
    write_keras_h5(tmp_path / "w.h5", keras_kernels(DFCAN(9, 2, **TINY), 2), saved=False)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="holds 23 weighted layers but 'dfgan'"):
        convert_keras_h5(tmp_path / "w.h5", "dfgan", 9, 2, options={"width": 16})
    with pytest.raises(ValueError, match="wrong architecture, in_frames or scale"):
        convert_keras_h5(tmp_path / "w.h5", "dfcan", 1, 2, options=TINY)
    with h5py.File(tmp_path / "plain.h5", "w") as fh:
        fh.create_dataset("x", data=np.zeros(3))
    with pytest.raises(ValueError, match="not a Keras weights file"):
        convert_keras_h5(tmp_path / "plain.h5")
