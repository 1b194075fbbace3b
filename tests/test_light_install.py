"""The light install: bundled models on ONNX Runtime with torch unimportable, and a clean demo.

The child processes get a ``sitecustomize`` (via PYTHONPATH, so the inference child processes
inherit it) that makes ``import torch`` fail, as on a ``pip install "livesr[demo]"`` machine.
It also hides ``mm_test_adapters``, so pymmcore-plus finds no Micro-Manager adapters, as on
a fresh machine.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

BLOCKER = """\
import sys
sys.modules["torch"] = None  # import torch -> ImportError, find_spec("torch") -> None
sys.modules["mm_test_adapters"] = None  # no Micro-Manager adapters, as on a fresh machine
"""


def _env(tmp_path: Path) -> dict[str, str]:
    site = tmp_path / "blocker"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(BLOCKER)
    src = Path(__file__).resolve().parents[1] / "src"
    path = os.pathsep.join([str(site), str(src), os.environ.get("PYTHONPATH", "")])
    return {**os.environ, "PYTHONPATH": path, "LIVESR_CACHE_DIR": str(tmp_path / "cache")}


def test_demo_runs_without_torch_and_prints_no_error(tmp_path: Path) -> None:
    out = tmp_path / "demo.zarr"
    argv = ["livesr", "demo", "--timepoints", "2", "--size", "64", "--out", str(out)]
    code = f"import sys; from livesr.cli import main; sys.argv = {argv!r}; main()"
    run = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True,
        cwd=tmp_path, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ERROR" not in run.stderr and "mmcore install" not in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr
    from livesr.io import open_store

    store = open_store(out)
    assert store.sr_done().all()
    from livesr.models import bundled_weights, read_card

    specs = store.reconstructor_specs()
    assert set(specs) == {"488", "561"}
    for spec in specs.values():
        assert spec.backend == "onnxruntime"
        # The default is "auto": the shipped physics-informed model, Wiener where it wins.
        name = "wiener-denoiser" if spec.model == "auto" else spec.model
        card = read_card(bundled_weights()[name])
        assert spec.weights_sha256 == card.weights_sha256
    assert set(store.stack_values()["backend"].ravel()) == {"onnxruntime-cpu"}


@pytest.mark.parametrize("name", ["dfcan-sim", "dfcan-sisr", "wiener-denoiser"])
def test_bundled_graph_matches_the_torch_network_at_any_size(name: str) -> None:
    torch = pytest.importorskip("torch")
    from livesr.models import load_model
    from livesr.reconstruct.runtimes._bundled_onnx import create_bundled_reconstructor

    loaded = load_model(name)
    rec = create_bundled_reconstructor(name, "onnxruntime", "cpu", threads=1)
    assert rec.info.weights_sha256 == loaded.weights_sha256
    rng = np.random.default_rng(0)
    # The U-Net of wiener-denoiser takes SR grids of multiples of 8 (its reconstructor pads).
    shapes = (
        [(64, 64), (48, 80), (128, 128)] if "wiener" in name else [(64, 64), (50, 77), (128, 128)]
    )
    for shape in shapes:
        x = rng.random((1, loaded.in_frames, *shape), dtype=np.float32)
        with torch.no_grad():
            expected = loaded.module(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(rec(x), expected, atol=2e-5)
    rec.close()


def test_a_model_without_a_bundled_graph_says_torch_is_needed(tmp_path: Path) -> None:
    from livesr.models import bundled_weights

    weights = tmp_path / "mine.safetensors"
    weights.write_bytes(bundled_weights()["dfcan-sim"].read_bytes())
    code = (
        "from livesr.reconstruct import StackReconstructor, BackendUnavailableError\n"
        "try:\n"
        f"    StackReconstructor.create({str(weights)!r})\n"
        "except BackendUnavailableError as exc:\n"
        "    print(exc)\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "torch is not installed" in run.stdout and "no bundled ONNX graph" in run.stdout


def test_demo_on_the_torch_backend_without_torch_says_what_to_do(tmp_path: Path) -> None:
    argv = ["livesr", "demo", "--timepoints", "1", "--size", "64", "--backend", "torch"]
    code = f"import sys; from livesr.cli import main; sys.argv = {argv!r}; main()"
    run = subprocess.run(
        [sys.executable, "-c", code], env=_env(tmp_path), capture_output=True, text=True,
        cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2, run.stdout + run.stderr
    assert "error: backend 'torch' needs torch" in run.stderr
    assert "Traceback" not in run.stderr
