from __future__ import annotations

import pytest
import yaml
from pydantic import ValidationError

from livesr import CameraConfig, OpticsConfig, PatternConfig, PipelineConfig
from livesr.config import DFCANOptions, ModelConfig, RCANOptions, SCUNetOptions


def test_defaults_are_biosr_like() -> None:
    optics = OpticsConfig()
    assert optics.cutoff_per_um("488") == pytest.approx(2 * 1.49 / 0.525)
    assert PatternConfig().n_frames == 9
    assert PatternConfig.nonlinear().n_frames == 25
    assert PatternConfig.nonlinear().n_orders == 2


def test_unknown_key_is_rejected_by_name() -> None:
    with pytest.raises(ValidationError, match="numerical_aperture"):
        OpticsConfig(numerical_aperture=1.4)  # type: ignore[call-arg]


def test_too_few_phases_for_the_bands() -> None:
    with pytest.raises(ValidationError, match="n_phases=3 is too few"):
        PatternConfig(n_angles=5, n_phases=3, nonlinear_harmonics=(0.3,))


def test_pixel_above_nyquist() -> None:
    with pytest.raises(ValidationError, match="above the Nyquist limit"):
        OpticsConfig(pixel_size_um=0.13)


def test_wavelength_in_nm_is_caught() -> None:
    with pytest.raises(ValidationError, match="did you give nm"):
        OpticsConfig(emission_um={"488": 525})


def test_yaml_round_trip(tmp_path) -> None:
    cfg = PipelineConfig(camera=CameraConfig(read_noise_e=2.0))
    path = tmp_path / "pipeline.yaml"
    cfg.to_yaml(path)
    assert PipelineConfig.from_file(path) == cfg


def test_from_file_names_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match=r"nope\.yaml"):
        PipelineConfig.from_file(tmp_path / "nope.yaml")


def test_model_options_are_typed_per_architecture(tmp_path) -> None:
    assert ModelConfig().options == DFCANOptions()
    rcan = ModelConfig(architecture="rcan")
    assert isinstance(rcan.options, RCANOptions) and rcan.options.groups == 5
    assert ModelConfig(architecture="dfgan").options.blocks == 10  # DFGAN's own defaults
    assert ModelConfig(architecture="scunet", options={"base": 8}).options == SCUNetOptions(
        depth=3, base=8
    )
    config = ModelConfig(architecture="dscan", options={"width": 16})
    assert ModelConfig.model_validate(yaml.safe_load(config.to_yaml())) == config


def test_model_config_errors_name_the_key(tmp_path) -> None:
    path = tmp_path / "model.yaml"
    path.write_text("architecture: unet\noptions: {depth: 3, widht: 16}\n")
    with pytest.raises(ValidationError, match=r"'unet' does not take option\(s\) \['widht'\]"):
        ModelConfig.from_file(path)
    with pytest.raises(ValidationError, match="unknown architecture 'dfcam'"):
        ModelConfig(architecture="dfcam")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match=r"options.depth\n.*less than or equal to 6"):
        ModelConfig(architecture="unet", options={"depth": 9})
    with pytest.raises(ValidationError, match="width=8 is too small for reduction=16"):
        ModelConfig(options={"width": 8})
    with pytest.raises(ValidationError, match="takes RCANOptions, got DFCANOptions"):
        ModelConfig(architecture="rcan", options=DFCANOptions())
    with pytest.raises(ValidationError, match=r"options\.attention\n.*should be .spatial."):
        ModelConfig(architecture="dscan", options={"attention": "fourier"})
