from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile

from livesr.io import read_otf, read_stack

JIN = Path("sim/jin2020_dlsim_microtubule")
MT = Path("dlsr/rDL-SIM/data_test/rDL-SIM/Microtubules/MT.mrc")
OTF = Path("dlsr/rDL-SIM/src/sim_fitting/OTF/TIRF488_cam1_0_z30_OTF2d.mrc")


def test_folder_of_tiffs_is_read_in_natural_order(shared_data: Path) -> None:
    stack = read_stack(shared_data / JIN / "raw_high_light")
    assert stack.data.shape == (16, 256, 256)
    assert stack.data.dtype == np.uint16
    # HE_15 is the average of the 15 raw frames: it must come last.
    mean = stack.data[:15].astype(np.float64).mean(axis=0)
    assert np.abs(stack.data[15] - mean).mean() < 2.0
    only_raw = read_stack(shared_data / JIN / "raw_high_light", glob="HE_0*.tif")
    assert only_raw.data.shape[0] == 10


def test_numbers_in_names_sort_as_numbers(tmp_path: Path) -> None:
    for i in (10, 2, 1):
        tifffile.imwrite(tmp_path / f"frame_{i}.tif", np.full((16, 16), i, np.uint16))
    data = read_stack(tmp_path).data
    assert data[:, 0, 0].tolist() == [1, 2, 10]


def test_biosr_mrc_with_deltavision_header(shared_data: Path) -> None:
    stack = read_stack(shared_data / MT)
    assert stack.data.shape == (9, 256, 256)
    assert stack.pixel_size_um == pytest.approx(0.0626)


def test_tiff_stack_with_extra_axes_is_flattened_angle_major(tmp_path: Path) -> None:
    frames = np.arange(3 * 3 * 32 * 32, dtype=np.uint16).reshape(3, 3, 32, 32)
    tifffile.imwrite(tmp_path / "raw.tif", frames, photometric="minisblack")
    data = read_stack(tmp_path / "raw.tif").data
    assert data.shape == (9, 32, 32)
    np.testing.assert_array_equal(data[4], frames[1, 1])


def test_measured_radial_otf(shared_data: Path) -> None:
    otf = read_otf(shared_data / OTF)
    assert otf.radial.shape == (257,)
    assert otf.radial[0] == 1.0
    assert otf.dk_per_um == pytest.approx(0.0312, rel=1e-3)
    assert otf.radial[-1] < 0.01


def test_bad_inputs_name_the_problem(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_stack(tmp_path / "missing.tif")
    with pytest.raises(FileNotFoundError, match="no TIFF files"):
        read_stack(tmp_path)
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ValueError, match="unknown file type"):
        read_stack(tmp_path / "notes.txt")
    (tmp_path / "broken.tif").write_bytes(b"not a tiff")
    with pytest.raises(ValueError, match="not a readable TIFF"):
        read_stack(tmp_path / "broken.tif")
    (tmp_path / "broken.mrc").write_bytes(b"\0" * 64)
    with pytest.raises(ValueError, match="not a readable MRC"):
        read_stack(tmp_path / "broken.mrc")
    with pytest.raises(FileNotFoundError, match="omit --otf"):
        read_otf(tmp_path / "otf.mrc")
    np.save(tmp_path / "otf.npy", np.linspace(1, 0, 10))
    with pytest.raises(ValueError, match="spacing is unknown"):
        read_otf(tmp_path / "otf.npy")
    assert read_otf(tmp_path / "otf.npy", dk_per_um=0.5).dk_per_um == 0.5


def test_folder_with_mixed_frame_sizes_is_rejected(tmp_path: Path) -> None:
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((16, 16), np.uint16))
    tifffile.imwrite(tmp_path / "b.tif", np.zeros((16, 18), np.uint16))
    with pytest.raises(ValueError, match="same size"):
        read_stack(tmp_path)
