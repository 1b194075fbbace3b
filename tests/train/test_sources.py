from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from livesr.config import ModelConfig
from livesr.train import (
    BioSRDataConfig,
    BioSRSource,
    PatchSampler,
    SimulatedDataConfig,
    TiffPairsSource,
    TrainConfig,
    find_biosr_pairs,
    make_sources,
)


def test_biosr_split_and_patches(biosr_tree: Callable[..., Path]) -> None:
    root = biosr_tree()
    config = TrainConfig(
        model=ModelConfig(in_frames=9, scale=2),
        data=BioSRDataConfig(root=root, train_cells=(6, 7), val_cells=(1, 2)),
        patch_size=16,
    )
    train_src, val_src = make_sources(config)
    assert isinstance(train_src, BioSRSource)
    assert {p.cell for p in train_src.pairs} == {6, 7}
    assert {p.cell for p in val_src.pairs} == {1, 2}
    assert {p.level for p in train_src.pairs} == {1, 2}
    x, y = PatchSampler(train_src, 16, seed=0).batch(3)
    assert x.shape == (3, 9, 16, 16) and y.shape == (3, 1, 32, 32)
    assert x.dtype == np.float32 and 0.0 <= x.min() and x.max() <= 1.0


def test_biosr_sisr_mode_sums_the_frames(biosr_tree: Callable[..., Path]) -> None:
    root = biosr_tree(cells=(6,), levels=(1,))
    src = BioSRSource(root, (6,), None, in_frames=1, scale=2)
    field = src.draw(np.random.default_rng(0))
    from livesr.train import read_mrc

    raw = read_mrc(root / "Cell_006" / "RawSIMData_level_01.mrc").astype(np.float32)
    np.testing.assert_allclose(field.inp[0], raw.sum(0))


def test_biosr_er_layout_pairs_each_level_with_its_gt(biosr_tree: Callable[..., Path]) -> None:
    root = biosr_tree(cells=(1,), levels=(1, 3), er=True)
    pairs = find_biosr_pairs(root, (1,))
    assert [(p.level, p.gt.name) for p in pairs] == [
        (1, "GTSIM_level_01.mrc"),
        (3, "GTSIM_level_03.mrc"),
    ]


def test_biosr_errors_list_what_exists(biosr_tree: Callable[..., Path]) -> None:
    root = biosr_tree(cells=(1, 6), levels=(1, 2))
    with pytest.raises(FileNotFoundError, match=r"cells \[9\] are not in .*found cells \[1, 6\]"):
        find_biosr_pairs(root, (6, 9))
    with pytest.raises(FileNotFoundError, match=r"levels \[5\].*found levels \[1, 2\]"):
        find_biosr_pairs(root, (6,), (1, 5))
    (root / "Cell_006" / "SIM_gt.mrc").unlink()
    with pytest.raises(FileNotFoundError, match=r"SIM_gt.mrc is missing.*RawSIMData_level_01"):
        find_biosr_pairs(root, (6,))
    with pytest.raises(FileNotFoundError, match="no Cell_NNN folders"):
        find_biosr_pairs(root / "Cell_001", (1,))


def test_biosr_frame_count_mismatch_is_named(biosr_tree: Callable[..., Path]) -> None:
    root = biosr_tree(cells=(6,), levels=(1,), frames=9)
    src = BioSRSource(root, (6,), None, in_frames=25, scale=2)
    with pytest.raises(ValueError, match="has 9 raw frames but the model takes 25"):
        src.draw(np.random.default_rng(0))


def test_tiff_pairs_sim_and_wf(dlsr_tree: Path) -> None:
    sim = TiffPairsSource(dlsr_tree, "training", in_frames=9, scale=2)
    wf = TiffPairsSource(dlsr_tree, "validate", in_frames=1, scale=2)
    assert len(sim) == 6 and len(wf) == 2
    x, y = PatchSampler(sim, 16, seed=0).batch(2)
    assert x.shape == (2, 9, 16, 16) and y.shape == (2, 1, 32, 32)
    x, _ = PatchSampler(wf, 16, seed=0).batch(2)
    assert x.shape == (2, 1, 16, 16)


def test_tiff_pairs_missing_ground_truth(dlsr_tree: Path) -> None:
    (dlsr_tree / "training_gt" / "00000003.tif").unlink()
    with pytest.raises(FileNotFoundError, match=r"no ground truth .*00000003"):
        TiffPairsSource(dlsr_tree, "training", in_frames=9, scale=2)
    shutil.rmtree(dlsr_tree / "validate_gt")
    with pytest.raises(FileNotFoundError, match="validate_gt does not exist"):
        TiffPairsSource(dlsr_tree, "validate", in_frames=9, scale=2)


def test_tiff_pairs_mismatched_sizes(dlsr_tree: Path) -> None:
    src = TiffPairsSource(dlsr_tree, "training", in_frames=9, scale=3)
    with pytest.raises(ValueError, match="ground truth is 48x48 but raw frames 24x24 x scale 3"):
        src.draw(np.random.default_rng(0))


def test_simulated_source_is_seeded_and_resumable() -> None:
    pytest.importorskip("livesr.simulate")
    data = SimulatedDataConfig(field_size=32, pool_size=2, refresh_every=2, validation_fields=1)
    config = TrainConfig(model=ModelConfig(in_frames=9, scale=2), data=data, patch_size=16)
    a, val = make_sources(config)
    sampler = PatchSampler(a, 16, seed=5)
    sampler.batch(3)
    state = sampler.state_dict()
    expected = sampler.batch(3)
    assert state["source"]["next_seed"] == 1_000_003  # one refresh after 3 draws
    b, _ = make_sources(config)
    resumed = PatchSampler(b, 16, seed=123)
    resumed.load_state_dict(state)
    got = resumed.batch(3)
    np.testing.assert_array_equal(got[0], expected[0])
    np.testing.assert_array_equal(got[1], expected[1])
    assert val.draw(np.random.default_rng(0)).name.endswith("photons")
    assert "seed 1900000" in val.draw(np.random.default_rng(0)).name


def test_config_errors_name_the_problem(tmp_path: Path) -> None:
    path = tmp_path / "train.yaml"
    path.write_text("model: {in_frames: 9}\nbatch_sise: 4\n")
    with pytest.raises(ValidationError, match="batch_sise"):
        TrainConfig.from_file(path)
    with pytest.raises(ValidationError, match="greater than or equal to 1000000"):
        SimulatedDataConfig(seed=5)
    with pytest.raises(ValidationError, match="unknown \\['mitochondria'\\]"):
        SimulatedDataConfig(structures=("mitochondria",))
    with pytest.raises(ValidationError, match="supports 'dfcan' and 'dfgan'"):
        TrainConfig(model=ModelConfig(architecture="rcan"))
    with pytest.raises(ValidationError, match="root"):
        TrainConfig.model_validate({"data": {"source": "biosr"}})


def test_simulated_source_skips_an_empty_field(monkeypatch: pytest.MonkeyPatch) -> None:
    # A small field can miss a sparse structure; the simulator then refuses to scale it. Such
    # seeds are skipped (this one is made empty on purpose: real ones are rare).
    import livesr.train._simulated as simulated

    real = simulated.simulated_field

    def with_an_empty_seed(seed: int, *args: object, **kwargs: object) -> object:
        if seed == 1_000_001:
            raise ValueError("the specimen is empty in this field of view: nothing to scale")
        return real(seed, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(simulated, "simulated_field", with_an_empty_seed)
    data = SimulatedDataConfig(field_size=32, pool_size=3)
    source = simulated.SimulatedSource(data, in_frames=9, scale=2, validation=False)
    assert source.state_dict()["seeds"] == [1_000_000, 1_000_002, 1_000_003]
