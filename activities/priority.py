"""The Temporal task priority of a user's jobs: VIP accounts' run before a backlog (schema/queues.py)."""

from __future__ import annotations

import uuid

from temporalio.common import Priority

from schema.queues import priority
from schema.tables import AppUser


async def priority_of(user: uuid.UUID | str) -> Priority:
    row = await AppUser.select(AppUser.vip).where(AppUser.id == uuid.UUID(str(user))).first()
    return priority(bool(row and row["vip"]))
