"""The base of every livesr config: frozen, unknown keys rejected, YAML round trip."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
)
from typing_extensions import Self


class FrozenConfig(BaseModel):
    """Base class: immutable, unknown keys rejected, YAML round trip."""

    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=True)

    @classmethod
    def from_file(cls, path: str | Path) -> Self:
        """Load from a YAML (or JSON, a subset of YAML) file.

        Raises
        ------
        FileNotFoundError
            If `path` does not exist.
        pydantic.ValidationError
            If a key is unknown or a value is invalid; the message names the field.
        """
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"config file {path} does not exist")
        with path.open() as stream:  # a named stream: YAML errors then name the file
            data = yaml.safe_load(stream) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of settings at the top level")
        return cls.model_validate(data)

    def to_yaml(self, path: str | Path | None = None) -> str:
        """Serialise to YAML; write it to `path` too when given."""
        text = yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)
        if path is not None:
            Path(path).write_text(text)
        return text
