"""Shapes shared by every request."""

from __future__ import annotations

from typing import Annotated

import msgspec

# Deliberately loose: an address is proven by using it, not by a regex.
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Body(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Request bodies: an unknown field is a client mistake worth a 400, not something to ignore."""
