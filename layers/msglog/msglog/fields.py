"""Field types that request bodies (msglog.schemas) and query parameters (msglog.http) share: a module
of its own, so that a function reading no body does not build the body models."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from msglog.clock import in_range


def _iso_text(value: object) -> object:
    """Instants are ISO 8601 text; pydantic alone would also take numbers as Unix times."""
    if isinstance(value, (int, float)) or (isinstance(value, str) and re.fullmatch(r"\s*[+-]?[\d.eE+-]+\s*", value)):
        raise ValueError("must be ISO 8601 with an offset, such as 2026-03-01T08:00:00Z")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_iso_text), AfterValidator(in_range)]
