"""Host tuning is the application's choice: a library run changes nothing process-wide.

Also: the CPU backends work where ``os.sched_getaffinity`` does not exist (macOS, Windows).
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from livesr import HostTuning, host_tuning
from livesr._host import ThreadAffinity, active_tuning, usable_cores

pytest.importorskip("torch")

import torch

from livesr.models import build_model
from livesr.pipeline._affinity import split_cpus
from livesr.reconstruct import TorchReconstructor, create_reconstructor
from livesr.reconstruct._factory import cpu_parts
from tiny_models import TINY_DFCAN, normalised_stacks, save_tiny_weights


def test_library_use_leaves_torch_threads_and_cores_alone() -> None:
    threads = torch.get_num_threads()
    cores = usable_cores()
    rec = TorchReconstructor(build_model(TINY_DFCAN), threads=1)
    sr = rec(normalised_stacks(1, (32, 32)))
    assert sr.shape == (1, 1, 64, 64)
    assert torch.get_num_threads() == threads
    assert usable_cores() == cores
    assert active_tuning() == HostTuning.off() == HostTuning()


def test_an_applied_tuning_is_restored_on_exit_and_on_error() -> None:
    threads = torch.get_num_threads()
    with host_tuning(HostTuning(torch_threads=1, nice=3)) as tuning:
        assert torch.get_num_threads() == 1
        assert active_tuning() is tuning
    assert torch.get_num_threads() == threads
    assert active_tuning() == HostTuning.off()
    with pytest.raises(KeyboardInterrupt), host_tuning(HostTuning(torch_threads=1)):
        raise KeyboardInterrupt
    assert torch.get_num_threads() == threads


def test_the_application_preset_is_what_the_commands_measured_with() -> None:
    preset = HostTuning.application(torch_threads=2)
    assert (preset.malloc, preset.pin_threads, preset.nice, preset.torch_threads) == (
        True, True, 10, 2,
    )  # fmt: skip
    assert HostTuning.off().model_dump() == {
        "malloc": False, "pin_threads": False, "nice": 0, "torch_threads": None,
    }  # fmt: skip


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="pinning needs Linux and two cores",
)
def test_thread_affinity_restores_every_thread_it_pinned() -> None:
    before = os.sched_getaffinity(0)
    started, stop = threading.Event(), threading.Event()
    tid: list[int] = []

    def idle() -> None:
        tid.append(threading.get_native_id())
        started.set()
        stop.wait()

    thread = threading.Thread(target=idle)
    thread.start()
    started.wait()
    try:
        pinned = ThreadAffinity({min(before)})
        assert os.sched_getaffinity(0) == os.sched_getaffinity(tid[0]) == {min(before)}
        pinned.restore()
        assert os.sched_getaffinity(0) == os.sched_getaffinity(tid[0]) == before
    finally:
        stop.set()
        thread.join()


@pytest.fixture
def no_affinity(monkeypatch: pytest.MonkeyPatch) -> None:
    """This process as on macOS and Windows: no ``os.sched_getaffinity`` / ``setaffinity``."""
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.delattr(os, "sched_setaffinity", raising=False)


@pytest.mark.usefixtures("no_affinity")
def test_cores_and_pinning_without_sched_getaffinity() -> None:
    cores = os.cpu_count() or 1
    assert usable_cores() == cores
    assert cpu_parts(4, None) == min(4, cores)
    assert split_cpus(None) is None  # nothing to pin: a run leaves the scheduler alone
    ThreadAffinity({0}).restore()  # a no-op, not an AttributeError


@pytest.mark.usefixtures("no_affinity")
@pytest.mark.parametrize("backend", ["torch", "onnxruntime-cpu"])
def test_cpu_backends_run_without_sched_getaffinity(tmp_path: Path, backend: str) -> None:
    if backend.startswith("onnxruntime"):
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnx")
    weights = save_tiny_weights(tmp_path / "tiny.safetensors")
    rec = create_reconstructor(weights, backend, frame_shape=(32, 32), batch_size=2)
    sr = rec(normalised_stacks(2, (32, 32)))
    assert sr.shape == (2, 1, 64, 64) and np.isfinite(sr).all()
    rec.close()


@pytest.mark.usefixtures("no_affinity")
def test_onnxruntime_reconstructor_sizes_its_threads_without_sched_getaffinity(
    tmp_path: Path,
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnx")
    from livesr.models import load_model
    from livesr.reconstruct import OnnxRuntimeReconstructor, export_onnx

    loaded = load_model(save_tiny_weights(tmp_path / "tiny.safetensors"))
    path = export_onnx(loaded.module, tmp_path / "tiny.onnx", (2, 9, 32, 32))
    rec = OnnxRuntimeReconstructor(path, in_frames=9, scale=2, parallel=2)
    assert rec(normalised_stacks(2, (32, 32))).shape == (2, 1, 64, 64)
    rec.close()
