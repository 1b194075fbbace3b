"""Weights: safetensors + model card round trip, and clear errors for every bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from livesr.models import (
    DFCAN,
    ModelCard,
    bundled_weights,
    card_path_for,
    load_weights,
    read_card,
    resolve_weights,
    save_weights,
)

TINY = {"groups": 1, "blocks": 2, "width": 16, "size_psc": 16}


def tiny_dfcan() -> DFCAN:
    torch.manual_seed(1)
    return DFCAN(9, 2, **TINY)  # type: ignore[arg-type]


def test_round_trip_restores_identical_outputs_and_card(tmp_path: Path) -> None:
    model = tiny_dfcan().eval()
    card = ModelCard(
        name="tiny",
        architecture="dfcan",
        in_frames=9,
        scale=2,
        options=model.options,
        training_data={"structures": ["microtubules"], "seeds": [1_000_000, 1_000_100]},
        metrics={"nrmse": 0.12},
        training_command="livesr train --model dfcan",
    )
    stored = save_weights(model, tmp_path / "tiny.safetensors", card)
    assert stored.weights_sha256 is not None and len(stored.weights_sha256) == 64

    loaded, loaded_card = load_weights(tmp_path / "tiny.safetensors")
    assert loaded_card == stored
    assert not loaded.training
    x = torch.rand(1, 9, 24, 24)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    # The sidecar is the same card, readable by people and without torch.
    assert ModelCard.from_file(card_path_for(tmp_path / "tiny.safetensors")) == stored
    assert read_card(tmp_path / "tiny.safetensors") == stored


def test_file_is_not_a_pickle(tmp_path: Path) -> None:
    save_weights(tiny_dfcan(), tmp_path / "w.safetensors")
    raw = (tmp_path / "w.safetensors").read_bytes()
    header_len = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + header_len])
    assert any(name.endswith("conv_a.weight") for name in header)
    assert not raw.startswith(b"\x80")  # pickle protocol marker


def test_card_that_does_not_match_the_model_is_refused(tmp_path: Path) -> None:
    card = ModelCard(name="x", architecture="dfcan", in_frames=1, scale=2, options=TINY)
    with pytest.raises(ValueError, match="in_frames: card 1 vs model 9"):
        save_weights(tiny_dfcan(), tmp_path / "w.safetensors", card)


def test_tensors_that_do_not_fit_the_card_are_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_weights(tiny_dfcan(), path)
    # Someone edits the card to another width: the tensors no longer fit.
    from safetensors.torch import load_file, save_file

    card = read_card(path).model_copy(update={"options": {**TINY, "width": 32}})
    save_file(load_file(str(path)), str(path), metadata={"livesr_card": card.to_json()})
    with pytest.raises(ValueError, match="do not fit the card's architecture 'dfcan'"):
        load_weights(path)


def test_corrupt_and_missing_files_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "w.safetensors"
    save_weights(tiny_dfcan(), path)
    raw = bytearray(path.read_bytes())
    raw[-10] ^= 0xFF  # flip bits inside the last tensor
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="do not match the weights_sha256"):
        load_weights(path)

    path.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(ValueError, match="corrupt or truncated"):
        load_weights(path)

    (tmp_path / "junk.safetensors").write_bytes(b"not a weights file")
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_weights(tmp_path / "junk.safetensors")

    with pytest.raises(
        FileNotFoundError, match=r"pass a \.safetensors path or one of the bundled"
    ):
        load_weights(tmp_path / "missing.safetensors")


def test_bundled_weights_resolve_by_name() -> None:
    bundled = bundled_weights()
    for name, path in bundled.items():
        assert path.suffix == ".safetensors"
        assert resolve_weights(name) == path
        model, card = load_weights(name)  # hash, card and architecture all checked
        assert card.weights_sha256 is not None
        assert card_path_for(path).is_file()  # the human-readable card ships too
        with torch.inference_mode():
            y = model(torch.rand(1, card.in_frames, 24, 24))
        assert y.shape == (1, 1, 24 * card.scale, 24 * card.scale)
    with pytest.raises(FileNotFoundError, match="no bundled weights of that name"):
        resolve_weights("no-such-model")


def test_cards_and_bundled_names_need_no_torch(tmp_path: Path) -> None:
    import subprocess
    import sys

    save_weights(tiny_dfcan(), tmp_path / "w.safetensors")
    code = (
        "import sys, livesr.models as m; "
        f"card = m.read_card({str(tmp_path / 'w.safetensors')!r}); "
        "m.bundled_weights(); "
        "assert card.in_frames == 9, card; "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("name", ["dscan", "rcan", "unet", "dfgan_discriminator"])
def test_every_registry_entry_round_trips_through_a_card(tmp_path: Path, name: str) -> None:
    from livesr.config import ModelConfig
    from livesr.models import build_model

    options = {
        "dscan": {"width": 16, "groups": 1, "blocks": 1},
        "rcan": {"width": 16, "groups": 1, "blocks": 1},
        "unet": {"base": 4, "depth": 1},
        "dfgan_discriminator": {"widths": (4,), "stem": 4, "dense": 4},
    }[name]
    config = ModelConfig(architecture=name, in_frames=1 if "disc" in name else 9, options=options)
    model = build_model(config)
    card = ModelCard(
        name=name,
        architecture=name,
        in_frames=config.in_frames,
        scale=getattr(model, "scale", 2),
        options=dict(getattr(model, "options", {})),
    )
    save_weights(model, tmp_path / f"{name}.safetensors", card)
    loaded, loaded_card = load_weights(tmp_path / f"{name}.safetensors")
    assert loaded_card.architecture == name
    assert type(loaded) is type(model)
