"""Fault drill: the session's Postgres is shut down and started again (by the stack's supervisor) while candidates
answer their interviewers and poll their rooms, through the API and worker as users run them. Nothing accepted is
lost or recorded twice, and the API rides out the outage (requests wait for Postgres rather than fail)."""

from __future__ import annotations

import httpx

from bench.drills import restart_postgres_under_load
from stack.services import LocalStack


async def test_postgres_restarted_under_a_load_of_interview_turns_loses_no_turn_and_few_requests(
    api: httpx.AsyncClient, local_stack: LocalStack
) -> None:
    result = await restart_postgres_under_load(str(api.base_url), local_stack, candidates=24)

    assert result.back_at > result.stopped_at  # Postgres really went away and came back
    outage = result.during_outage()
    away = result.back_at - result.stopped_at
    assert len(outage) >= 20, f"{len(outage)} requests met the {away:.2f} s outage: too few to prove anything"
    failed = [r.status for r in outage if r.status >= 500]
    assert len(failed) <= 0.01 * len(outage), (failed, len(outage))
    assert result.accepted_count >= 24 and result.completed == result.accepted_count
    assert result.lost() == [] and result.duplicated() == []
    # Readiness said so while Postgres was away (load balancers stop sending new traffic), and is back after.
    status, readiness = result.ready_while_away
    postgres = next(d for d in readiness["dependencies"] if d["name"] == "postgres")  # type: ignore[attr-defined]
    assert status == 503 and not postgres["ok"] and postgres["error"], readiness
    assert result.ready_after == 200
    # After the outage the room pages read normally again.
    assert all(r.status < 500 for r in result.requests if r.started > result.caught_up_at)
