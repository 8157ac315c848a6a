"""Weaknesses across interviews: counted, dated, trending, with one piece of evidence each; only your own."""

from __future__ import annotations

from httpx import AsyncClient as Client

from tests.conftest import sign_up
from tests.test_review import FAILS_EDGE_CASES, PASSES, job_result, room_at_coding_stage


async def test_weaknesses_add_up_over_interviews_and_show_their_trend(api: Client) -> None:
    auth, _ = await sign_up(api)
    empty = (await api.get("/users/me/ai/weaknesses", headers=auth)).json()
    assert empty == {"interviews": 0, "weaknesses": []}

    # First interview: terse answers and code that misses edge cases.
    first, _ = await room_at_coding_stage(api, auth, answer="Not sure ({n}).")
    await job_result(api, f"/rooms/{first}/ai/review", auth, {"code": FAILS_EDGE_CASES})
    # Second interview: full answers and correct, clearly named code.
    second, _ = await room_at_coding_stage(
        api, auth, answer="I would explain my reasoning step by step, with an example and the trade-offs ({n})."
    )
    await job_result(api, f"/rooms/{second}/ai/review", auth, {"code": PASSES})

    report = (await api.get("/users/me/ai/weaknesses", headers=auth)).json()
    assert report["interviews"] == 2
    found = {w["category"]: w for w in report["weaknesses"]}
    assert set(found) == {"communication", "edge_cases", "input_validation", "off_by_one", "variable_naming"}
    communication = found["communication"]
    # intro, behavioural and the second knowledge answer (the first is the strong one the helper gives)
    assert communication["count"] == 3 and communication["sessions"] == 1
    assert communication["trend"] == "improving"
    assert communication["evidence"].startswith("“Not sure (")
    edge = found["edge_cases"]
    assert edge["sessions"] == 1 and edge["trend"] == "improving"
    assert edge["evidence"].startswith("code-valid-parentheses attempt 1: 2 of 3 edge_cases tests fail")
    assert edge["first_seen"] <= edge["last_seen"]

    stranger, _ = await sign_up(api)
    assert (await api.get("/users/me/ai/weaknesses", headers=stranger)).json()["weaknesses"] == []
    assert (await api.get("/users/me/ai/weaknesses")).status_code == 401
