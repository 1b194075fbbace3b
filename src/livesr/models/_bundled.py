"""Weights shipped inside the package (``livesr/models/weights/*.safetensors``).

Torch-free: listing and resolving names only touches the file system.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["WEIGHTS_DIR", "bundled_weights", "resolve_weights"]

WEIGHTS_DIR = Path(__file__).parent / "weights"
_SUFFIX = ".safetensors"


def bundled_weights() -> dict[str, Path]:
    """Bundled weights by name (file name without ``.safetensors``), sorted by name."""
    if not WEIGHTS_DIR.is_dir():
        return {}
    files = sorted(WEIGHTS_DIR.glob(f"*{_SUFFIX}"))
    return {path.name.removesuffix(_SUFFIX): path for path in files}


def resolve_weights(name_or_path: str | Path) -> Path:
    """A weights file from a bundled name or a path.

    Parameters
    ----------
    name_or_path : str or Path
        An existing ``.safetensors`` file, or the name of bundled weights (with or without the
        suffix).

    Raises
    ------
    FileNotFoundError
        Neither a file nor a bundled name; the message lists the bundled names.
    """
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    bundled = bundled_weights()
    key = str(name_or_path).removesuffix(_SUFFIX)
    if key in bundled:
        return bundled[key]
    names = ", ".join(bundled) or "none are installed"
    raise FileNotFoundError(
        f"no weights file {str(name_or_path)!r} and no bundled weights of that name "
        f"(bundled: {names}); pass a .safetensors path or one of the bundled names"
    )
