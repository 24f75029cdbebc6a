"""Schema building blocks: ``param`` (a scenario number's declaration) and the strict base model."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


def param(default: Any, lo: float, hi: float, units: str, *, source: str = "",
          assumption: str = "", description: str = "") -> Any:
    """A scenario number: default, inclusive range, units and its source row or assumption."""
    if not (source or assumption):
        raise ValueError("every scenario number needs a source row or an assumption")
    return Field(
        default,
        ge=lo,
        le=hi,
        description=description,
        json_schema_extra={"units": units, "source": source, "assumption": assumption},
    )


class Strict(BaseModel):
    """Base for every scenario section: unknown keys and NaN/inf are errors, types are strict
    (``true`` is never the number 1, ``'1.2'`` never the number 1.2; an integer for a float
    field is fine), and a validated section is immutable (``model_copy(update=...)`` or a new
    validation makes a changed one)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True, strict=True)
