"""Promise: a small file cannot make livesr allocate gigabytes before it is checked."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("safetensors")

from tiny_models import save_tiny_weights


def _claim(weights: Path, out: Path, options: dict[str, int]) -> Path:
    """Copy `weights` with a card that claims other architecture `options` (same tensors)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from livesr.models._card import CARD_METADATA_KEY

    with safe_open(str(weights), "pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    card = json.loads(meta[CARD_METADATA_KEY])
    card["options"].update(options)
    meta[CARD_METADATA_KEY] = json.dumps(card)
    save_file(tensors, str(out), metadata=meta)
    return out


CLAIMS = {
    # Within the options' bounds, but ~10 GB of weights: only the meta-device check stops it.
    "huge but valid options": ({"groups": 16, "blocks": 32, "width": 512}, "do not fit the card"),
    # Beyond the bounds: the card's own validation refuses it.
    "width 4096": ({"width": 4096}, "less than or equal to 512"),
}


@pytest.mark.parametrize("claim", CLAIMS, ids=list(CLAIMS))
def test_a_card_claiming_a_huge_network_is_refused_within_a_small_memory_limit(
    tmp_path: Path, claim: str
) -> None:
    options, message = CLAIMS[claim]
    tiny = save_tiny_weights(tmp_path / "tiny.safetensors")
    lying = _claim(tiny, tmp_path / "lying.safetensors", options)
    assert lying.stat().st_size < 1_000_000
    # A child with 2 GB of heap: building the claimed network would need far more.
    script = textwrap.dedent(f"""
        import resource, sys
        from livesr.models import load_weights
        resource.setrlimit(resource.RLIMIT_DATA, (2 << 30, 2 << 30))
        try:
            load_weights({str(lying)!r})
        except ValueError as exc:
            print("refused:", exc)
            sys.exit(0)
        sys.exit(3)
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert message in done.stdout
