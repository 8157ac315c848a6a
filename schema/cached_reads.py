"""The hot reads the API caches (stack/cache.py) and their keys: the API reads them, and whichever process writes
what they show (the API, a worker's activity) invalidates the key after its write."""

from __future__ import annotations

import uuid
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedRead:
    """One kind of cached read: its name (in metrics) and how long each level may serve a value. A write's
    invalidation ends both at once; the TTLs bound what a missed invalidation could cost."""

    name: str
    local_seconds: float
    redis_seconds: int


PROFILE = CachedRead("profile", local_seconds=5.0, redis_seconds=300)
RECENT_INTERVIEWS = CachedRead("recent_interviews", local_seconds=5.0, redis_seconds=300)
# A room's live state changes with each turn (its recorded turns invalidate it) and with signals (switch, end),
# which a query right after may not see yet: its levels serve it briefly.
ROOM_STATE = CachedRead("room_state", local_seconds=1.0, redis_seconds=5)


def profile_key(user_id: uuid.UUID | str) -> str:
    return f"profile:{user_id}"


def recent_interviews_key(user_id: uuid.UUID | str) -> str:
    return f"recent-interviews:{user_id}"


def room_state_key(room_id: uuid.UUID | str) -> str:
    return f"room-state:{room_id}"
