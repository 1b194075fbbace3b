from __future__ import annotations

import csv
from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from livesr.config import ModelConfig  # noqa: E402
from livesr.train import TiffPairsDataConfig, TrainConfig, load_checkpoint, train  # noqa: E402

TINY = {"groups": 1, "blocks": 1, "width": 8, "reduction": 4, "spectrum": "fft"}


def _config(root: Path, out: Path, **overrides: object) -> TrainConfig:
    base: dict[str, object] = {
        "model": ModelConfig(architecture="dfcan", in_frames=9, scale=2, options=TINY),
        "data": TiffPairsDataConfig(root=root),
        "out_dir": out,
        "iterations": 6,
        "batch_size": 2,
        "patch_size": 16,
        "val_every": 3,
        "val_patches": 4,
        "threads": 1,
        "progress": False,
    }
    return TrainConfig.model_validate({**base, **overrides})


def test_dfcan_writes_checkpoints_and_log(dlsr_tree: Path, tmp_path: Path) -> None:
    result = train(_config(dlsr_tree, tmp_path / "run"))
    assert result.finished and result.step == 6
    assert (tmp_path / "run" / "best.pt").is_file()
    assert (tmp_path / "run" / "config.yaml").is_file()
    with (tmp_path / "run" / "log.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [3, 6]
    assert all(0.0 < float(r["val_nrmse"]) < 10.0 for r in rows)
    assert float(rows[-1]["best_nrmse"]) == pytest.approx(result.best_nrmse, rel=1e-5)
    assert result.patches_per_s > 0


def test_resume_gives_the_uninterrupted_weights(dlsr_tree: Path, tmp_path: Path) -> None:
    train(_config(dlsr_tree, tmp_path / "straight"))
    train(_config(dlsr_tree, tmp_path / "split", iterations=3))
    resumed = train(_config(dlsr_tree, tmp_path / "split"), resume=True)
    assert resumed.step == 6
    a = load_checkpoint(tmp_path / "straight" / "latest.pt")
    b = load_checkpoint(tmp_path / "split" / "latest.pt")
    for name, tensor in a["model"].items():
        torch.testing.assert_close(b["model"][name], tensor, rtol=0, atol=0, msg=name)
    assert a["optimizer"]["state"][0]["step"] == b["optimizer"]["state"][0]["step"]
    with (tmp_path / "split" / "log.csv").open() as f:
        assert [int(r["step"]) for r in csv.DictReader(f)] == [3, 6]


def test_dfgan_trains_generator_and_discriminator(dlsr_tree: Path, tmp_path: Path) -> None:
    model = ModelConfig(architecture="dfgan", in_frames=9, scale=2, options=TINY)
    small_d = {"widths": (8, 8), "stem": 8, "dense": 16}
    result = train(
        _config(dlsr_tree, tmp_path / "gan", model=model, iterations=3, discriminator=small_d)
    )
    state = load_checkpoint(tmp_path / "gan" / "latest.pt")
    assert result.step == 3
    assert "discriminator" in state and state["d_optimizer"]["state"]
    with (tmp_path / "gan" / "log.csv").open() as f:
        row = next(csv.DictReader(f))
    # One discriminator step per 3 generator steps: one D step happened and was logged.
    assert float(row["d_loss"]) > 0


def test_sisr_model_trains_on_widefield(dlsr_tree: Path, tmp_path: Path) -> None:
    model = ModelConfig(architecture="dfcan", in_frames=1, scale=2, options=TINY)
    result = train(_config(dlsr_tree, tmp_path / "sisr", model=model, iterations=3))
    assert result.step == 3 and 0.0 < result.best_nrmse < 10.0


def test_ddp_with_gloo_world_size_one(
    dlsr_tree: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import torch.distributed as dist

    for key, value in {"RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0",
                       "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29533"}.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    try:
        result = train(_config(dlsr_tree, tmp_path / "ddp", iterations=3))
        assert dist.is_initialized() and dist.get_backend() == "gloo"
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    assert result.step == 3 and (tmp_path / "ddp" / "latest.pt").is_file()


def test_time_budget_stops_and_checkpoints(dlsr_tree: Path, tmp_path: Path) -> None:
    result = train(_config(dlsr_tree, tmp_path / "budget", iterations=1000, max_minutes=1e-6))
    assert not result.finished and result.step == 1
    assert load_checkpoint(tmp_path / "budget" / "latest.pt")["step"] == 1


@pytest.mark.slow
def test_torchrun_two_processes_share_one_run(tmp_path: Path) -> None:
    import shutil
    import subprocess
    import sys

    torchrun = Path(sys.executable).with_name("torchrun")
    livesr = shutil.which("livesr") or str(Path(sys.executable).with_name("livesr"))
    config = tmp_path / "t.yaml"
    config.write_text(
        "model: {in_frames: 9, scale: 2, options: {groups: 1, blocks: 1, width: 8,"
        " reduction: 4, size_psc: 16}}\n"
        "data: {source: simulated, field_size: 32, pool_size: 2, validation_fields: 1}\n"
        f"out_dir: {tmp_path / 'run'}\niterations: 4\nbatch_size: 2\npatch_size: 16\n"
        "val_every: 2\nval_patches: 2\nthreads: 1\nprogress: false\n"
    )
    done = subprocess.run(
        [str(torchrun), "--nproc_per_node", "2", "--no-python", livesr, "train",
         "--config", str(config)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("finished: step 4") == 2
    state = load_checkpoint(tmp_path / "run" / "latest.pt")
    # Each rank drew its own patches; both sampler states are kept for an exact resume.
    assert len(state["sampler"]) == 2
    assert state["sampler"][0]["rng"] != state["sampler"][1]["rng"]


@pytest.mark.gpu
def test_mixed_precision_on_cuda(dlsr_tree: Path, tmp_path: Path) -> None:
    result = train(_config(dlsr_tree, tmp_path / "amp", device="cuda", amp=True, iterations=3))
    state = load_checkpoint(tmp_path / "amp" / "latest.pt")
    assert result.step == 3 and all(t.dtype == torch.float32 for t in state["model"].values())
