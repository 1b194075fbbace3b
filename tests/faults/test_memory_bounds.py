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


def _claim_width(weights: Path, out: Path, width: int) -> Path:
    """Copy `weights` with a card that claims `width` channels (tensors unchanged)."""
    from safetensors import safe_open
    from safetensors.torch import save_file

    from livesr.models._card import CARD_METADATA_KEY

    with safe_open(str(weights), "pt") as f:
        meta = dict(f.metadata())
        tensors = {k: f.get_tensor(k) for k in f.keys()}
    card = json.loads(meta[CARD_METADATA_KEY])
    card["options"]["width"] = width
    meta[CARD_METADATA_KEY] = json.dumps(card)
    save_file(tensors, str(out), metadata=meta)
    return out


def test_a_card_claiming_a_huge_network_is_refused_within_a_small_memory_limit(
    tmp_path: Path,
) -> None:
    lying = _claim_width(
        save_tiny_weights(tmp_path / "tiny.safetensors"), tmp_path / "w.safetensors", 4096
    )
    assert lying.stat().st_size < 1_000_000
    # A child with 2 GB of heap: building the claimed 4096-wide DFCAN needs far more.
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
    assert "do not fit the card's architecture" in done.stdout
