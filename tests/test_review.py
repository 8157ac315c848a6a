"""Code review through the API: the candidate's code really runs against the question's tests."""

from __future__ import annotations

from httpx import AsyncClient as Client

from activities.question_bank import QuestionBank
from schema.tables import CodeSubmission
from tests.conftest import await_report, sign_up

# Rooms here pin code-valid-parentheses as their coding question.
FAILS_EDGE_CASES = """
def is_valid(s):
    stack = []
    pairs = {')': '(', ']': '[', '}': '{'}
    for c in s:
        if c in pairs:
            if stack.pop() != pairs[c]:
                return False
        else:
            stack.append(c)
    return True
"""
PASSES = """
def is_valid(text):
    pairs = {')': '(', ']': '[', '}': '{'}
    stack = []
    for bracket in text:
        if bracket in pairs:
            if not stack or stack.pop() != pairs[bracket]:
                return False
        else:
            stack.append(bracket)
    return not stack
"""


async def job_result(api: Client, path: str, auth: dict[str, str], body: dict[str, object]) -> dict:  # type: ignore[type-arg]
    accepted = await api.post(path, json=body, headers=auth)
    assert accepted.status_code == 202, accepted.text
    done = await api.get(f"{path}/{accepted.json()['job_id']}", params={"wait": 25}, headers=auth)
    assert done.json()["status"] == "completed", done.text
    return done.json()["result"]  # type: ignore[no-any-return]


def covering(question_id: str) -> str:
    """An answer that makes every rubric point of the question (a top score)."""
    cues = [point.cues[0] for point in QuestionBank.packaged().get(question_id).key_points]
    return f"I would talk about {', '.join(cues)}, and explain each of them with an example from my work."


async def room_at_coding_stage(
    api: Client, auth: dict[str, str] | None = None, answer: str = "My answer number {n}."
) -> tuple[str, dict[str, str]]:
    """A new room of `auth` (a new candidate by default), answered up to its coding question.

    The first knowledge answer is strong (the tier goes up to hard) and the second is `answer` (back down to
    medium); the coding question is pinned to code-valid-parentheses.
    """
    auth = auth or (await sign_up(api))[0]
    body = {"role": "Backend Engineer", "coding_question_id": "code-valid-parentheses"}
    room_id = (await api.post("/rooms", json=body, headers=auth)).json()["room_id"]
    early = await api.post(f"/rooms/{room_id}/ai/review", json={"code": PASSES}, headers=auth)
    assert early.status_code == 409
    assert "no coding question right now" in early.json()["detail"]
    stage, question_id, strong_given, n = "intro", "", False, 0
    while stage != "coding":
        n += 1
        if stage == "knowledge" and not strong_given:
            text, strong_given = covering(question_id), True
        else:
            text = answer.format(n=n)
        reply = await job_result(api, f"/rooms/{room_id}/ai/message", auth, {"text": text})
        stage, question_id = reply["stage"], reply["question_id"]
    assert question_id == "code-valid-parentheses"
    return room_id, auth


async def test_a_failing_then_passing_submission_is_reviewed_from_executed_tests(api: Client) -> None:
    room_id, auth = await room_at_coding_stage(api)
    first = await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": FAILS_EDGE_CASES})
    assert first["provider"] == "offline:test-runner"
    assert first["question_id"] == "code-valid-parentheses" and first["attempt"] == 1
    assert first["status"] == "ran" and first["passed"] < first["total"] == 8
    by_category = {f["category"]: f for f in first["findings"]}
    assert by_category["edge_cases"]["verdict"] == "needs_work"
    assert "'closing first' IndexError: pop from empty list" in by_category["edge_cases"]["evidence"]
    assert "'only opening' returned True" in by_category["edge_cases"]["evidence"]  # leftovers count as valid
    assert by_category["correctness"]["verdict"] == "good"
    assert by_category["readability"]["verdict"] == "needs_work"
    assert {"line": 7, "message": "raised IndexError in test 'closing first': pop from empty list"} in first[
        "suggestions"
    ]
    assert any(s["message"] == "the name 'c' says little about what it holds" for s in first["suggestions"])
    assert "signals" not in first  # weakness signals are stored, never polled

    second = await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": PASSES})
    assert second["attempt"] == 2 and second["passed"] == second["total"] == 8 and second["score"] == 5.0
    assert all(f["verdict"] == "good" for f in second["findings"])

    stored = (
        await CodeSubmission.select(CodeSubmission.attempt, CodeSubmission.signals)
        .where(CodeSubmission.room == room_id)
        .order_by(CodeSubmission.attempt)
    )
    assert stored == [
        {"attempt": 1, "signals": ["edge_cases", "input_validation", "off_by_one", "variable_naming"]},
        {"attempt": 2, "signals": []},
    ]


async def test_a_copy_made_on_every_pass_is_flagged_for_memory(api: Client) -> None:
    room_id, auth = await room_at_coding_stage(api)
    copying = (
        "def is_valid(text):\n"
        "    pairs = {')': '(', ']': '[', '}': '{'}\n"
        "    stack = []\n"
        "    while text:\n"
        "        bracket, text = text[0], text[1:]\n"
        "        if bracket in pairs:\n"
        "            if not stack or stack.pop() != pairs[bracket]:\n"
        "                return False\n"
        "        else:\n"
        "            stack.append(bracket)\n"
        "    return not stack\n"
    )
    review = await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": copying})
    assert review["passed"] == review["total"]  # correct, but wasteful
    complexity = next(f for f in review["findings"] if f["category"] == "complexity")
    assert complexity["verdict"] == "needs_work"
    assert complexity["evidence"].startswith("a slice copies the sequence inside a loop at line 5")
    stored = await CodeSubmission.select(CodeSubmission.signals).where(CodeSubmission.room == room_id).first()
    assert stored is not None and stored["signals"] == ["space_complexity"]


async def test_hostile_code_is_contained_and_the_worker_keeps_reviewing(api: Client) -> None:
    room_id, auth = await room_at_coding_stage(api)
    hostile = "import socket\ndef is_valid(s):\n    return open('/etc/shadow').read()\n"
    review = await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": hostile})
    assert review["status"] == "did_not_load"
    assert "PermissionError" in review["findings"][0]["evidence"]
    spin = "def is_valid(s):\n    while True:\n        pass\n"
    stopped = await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": spin})
    assert stopped["status"] == "timed_out" and stopped["passed"] == 0
    fine = await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": PASSES})
    assert fine["passed"] == 8


async def test_only_the_candidate_may_submit_and_bodies_are_checked(api: Client) -> None:
    room_id, auth = await room_at_coding_stage(api)
    stranger, _ = await sign_up(api)
    assert (await api.post(f"/rooms/{room_id}/ai/review", json={"code": PASSES}, headers=stranger)).status_code == 404
    too_big = await api.post(f"/rooms/{room_id}/ai/review", json={"code": "x" * 20_001}, headers=auth)
    assert too_big.status_code == 400
    wrong_language = await api.post(
        f"/rooms/{room_id}/ai/review", json={"code": PASSES, "language": "cobol"}, headers=auth
    )
    assert wrong_language.status_code == 400


async def test_the_report_scores_the_code_and_says_what_to_practise(api: Client) -> None:
    room_id, auth = await room_at_coding_stage(api, answer="Not sure ({n}).")
    await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": FAILS_EDGE_CASES})
    assert (await api.post(f"/rooms/{room_id}/end", headers=auth)).status_code == 202
    report = await await_report(api, room_id, auth)
    scores = {d["dimension"]: d["score"] for d in report["dimensions"]}
    assert scores["correctness"] == 5.0  # all 5 correctness tests passed
    assert scores["edge_cases"] == round(5 * 1 / 3, 2)
    assert scores["complexity"] == 5.0
    assert report["provider"] == "offline:question-bank, offline:test-runner"
    assert any(w["topic"] == "code-valid-parentheses edge_cases" for w in report["weaknesses"])
    practice = " ".join(report["recommended_practice"])
    assert "edge cases" in practice and "full sentences" in practice and "STAR" in practice


async def test_a_job_polled_through_another_kind_of_route_is_not_found(api: Client) -> None:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    message = (await api.post(f"/rooms/{room_id}/ai/message", json={"text": "Hello there."}, headers=auth)).json()
    done = await api.get(f"/rooms/{room_id}/ai/message/{message['job_id']}", params={"wait": 20}, headers=auth)
    assert done.json()["status"] == "completed"
    for kind in ("hint", "review"):  # found by `make fuzz`: these were 500s
        wrong = await api.get(f"/rooms/{room_id}/ai/{kind}/{message['job_id']}", headers=auth)
        assert wrong.status_code == 404, wrong.text
        assert f"no {kind} job" in wrong.json()["detail"]


async def test_javascript_is_reviewed_from_the_same_tests(api: Client) -> None:
    room_id, auth = await room_at_coding_stage(api)
    solution = (
        "function is_valid(text) {\n"
        "  const pairs = { ')': '(', ']': '[', '}': '{' };\n"
        "  const stack = [];\n"
        "  for (const bracket of text) {\n"
        "    if (pairs[bracket]) {\n"
        "      if (stack.pop() !== pairs[bracket]) return false;\n"
        "    } else {\n"
        "      stack.push(bracket);\n"
        "    }\n"
        "  }\n"
        "  return stack.length === 0;\n"
        "}\n"
    )
    body = {"code": solution, "language": "javascript"}
    review = await job_result(api, f"/rooms/{room_id}/ai/review", auth, body)
    assert review["status"] == "ran" and review["passed"] == review["total"] == 8
    assert {f["category"] for f in review["findings"]} == {"correctness", "edge_cases"}  # static checks: Python only
    ruby = await api.post(f"/rooms/{room_id}/ai/review", json={"code": "puts 1", "language": "ruby"}, headers=auth)
    assert ruby.status_code == 400
