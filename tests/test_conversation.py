"""Intent routing: pauses, clarification requests, spoken hint requests and follow-ups, through the real stack."""

from __future__ import annotations

from httpx import AsyncClient as Client

from activities.question_bank import QuestionBank
from tests.conftest import await_report, sign_up
from tests.test_review import covering, job_result

BANK = QuestionBank.packaged()


async def new_room(api: Client) -> tuple[str, dict[str, str]]:
    auth, _ = await sign_up(api)
    room_id = (await api.post("/rooms", json={"role": "Backend Engineer"}, headers=auth)).json()["room_id"]
    return f"/rooms/{room_id}/ai/message", auth


async def test_a_pause_and_a_clarification_request_keep_the_question_and_are_not_scored(api: Client) -> None:
    path, auth = await new_room(api)
    intro = await job_result(api, path, auth, {"text": covering("intro-1")})
    question_id = intro["question_id"]

    pause = await job_result(api, path, auth, {"text": "Hmm, let me think for a moment."})
    assert (pause["intent"], pause["agent"], pause["question_id"]) == ("thinking", "host", question_id)
    assert pause["text"] == "Of course, take your time. Start whenever you're ready."

    again = await job_result(api, path, auth, {"text": "Sorry, could you repeat the question?"})
    assert (again["intent"], again["agent"], again["question_id"]) == ("clarification", "host", question_id)
    assert again["text"].endswith(BANK.get(question_id).text)

    answered = await job_result(api, path, auth, {"text": covering(question_id)})
    assert answered["intent"] == "answer" and answered["agent"] == "behavioural"
    assert answered["question_id"] != question_id

    room_id = path.split("/")[2]
    await api.post(f"/rooms/{room_id}/end", headers=auth)
    report = await await_report(api, room_id, auth)
    assert report["answered"] == 2  # the pause and the clarification request were not answers


async def test_a_partial_answer_gets_one_follow_up_in_the_candidates_own_words(api: Client) -> None:
    path, auth = await new_room(api)
    behavioural = await job_result(api, path, auth, {"text": covering("intro-1")})
    question_id = behavioural["question_id"]
    partial = "At the time we were migrating our billing system to a new queue, and my task was picking the queue."
    follow_up = await job_result(api, path, auth, {"text": partial})
    assert (follow_up["agent"], follow_up["question_id"]) == ("question_generation", question_id)
    # It quotes the candidate and probes the first missing STAR point (action).
    assert "You mentioned “At the time we were migrating our billing…”" in follow_up["text"]
    assert "What did you personally do, step by step?" in follow_up["text"]

    completed = await job_result(
        api,
        path,
        auth,
        {"text": "I benchmarked two options and I proposed the simpler one; as a result we shipped early."},
    )
    assert completed["agent"] == "behavioural" and completed["stage"] == "knowledge"

    room_id = path.split("/")[2]
    await api.post(f"/rooms/{room_id}/end", headers=auth)
    report = await await_report(api, room_id, auth)
    star = next(d for d in report["dimensions"] if d["dimension"] == "behavioural_star")
    assert star["score"] == 5.0  # judged on both parts of the answer, counted once
    assert report["answered"] == 2


async def test_a_follow_up_that_does_not_resolve_the_gap_lowers_the_tier(api: Client) -> None:
    path, auth = await new_room(api)
    behavioural = await job_result(api, path, auth, {"text": covering("intro-1")})
    knowledge = await job_result(api, path, auth, {"text": covering(behavioural["question_id"])})
    assert knowledge["stage"] == "knowledge" and knowledge["difficulty"] == "medium"
    first_cue = BANK.get(knowledge["question_id"]).key_points[0].cues[0]
    partial = f"I think it is mostly about the {first_cue}, which is the part I know best from my own projects."
    follow_up = await job_result(api, path, auth, {"text": partial})
    assert follow_up["agent"] == "question_generation"
    unresolved = await job_result(api, path, auth, {"text": "I'm not sure about the rest, to be honest with you."})
    assert unresolved["difficulty"] == "easy"
    assert "something a little more approachable" in unresolved["text"]


async def test_asking_for_a_hint_out_loud_climbs_the_same_ladder_as_the_hint_button(api: Client) -> None:
    from tests.test_review import room_at_coding_stage

    room_id, auth = await room_at_coding_stage(api)
    path = f"/rooms/{room_id}/ai/message"
    spoken = await job_result(api, path, auth, {"text": "I'm stuck, can I get a hint?"})
    assert (spoken["intent"], spoken["agent"]) == ("hint_request", "coding")
    assert spoken["text"].startswith("Hint 1: ")
    button = await job_result(api, f"/rooms/{room_id}/ai/hint", auth, {})
    assert button["level"] == 2


async def test_a_question_about_the_code_is_answered_from_its_tests_and_the_coding_question_stays(api: Client) -> None:
    from tests.test_review import FAILS_EDGE_CASES, room_at_coding_stage

    room_id, auth = await room_at_coding_stage(api)
    path = f"/rooms/{room_id}/ai/message"
    before_any_run = await job_result(api, path, auth, {"text": "Does this look right to you?"})
    assert (before_any_run["intent"], before_any_run["stage"]) == ("code_question", "coding")
    assert before_any_run["question_id"] == "code-valid-parentheses"
    assert before_any_run["text"].startswith("Run the tests and we'll go through the results together.")

    await job_result(api, f"/rooms/{room_id}/ai/review", auth, {"code": FAILS_EDGE_CASES})
    thinking_aloud = "So I push every opening bracket and pop on a closing one. What do you think?"
    after_a_run = await job_result(api, path, auth, {"text": thinking_aloud})
    assert (after_a_run["intent"], after_a_run["agent"], after_a_run["stage"]) == ("code_question", "coding", "coding")
    assert after_a_run["provider"] == "mocki:coding-check-in"  # rules over the test run, not a model's score
    assert after_a_run["text"].startswith("On your last run, ") and " of 8 tests pass; " in after_a_run["text"]

    explained = "I push every opening bracket on a stack and pop it on the matching closing one, so it is O(n)."
    assert (await job_result(api, path, auth, {"text": explained}))["stage"] != "coding"  # an answer moves on
    turns = (await api.get(f"/rooms/{room_id}/ai/messages", params={"limit": 200}, headers=auth)).json()["items"]
    await api.post(f"/rooms/{room_id}/end", headers=auth)
    report = await await_report(api, room_id, auth)
    assert report["answered"] == sum(t["speaker"] == "candidate" for t in turns) - 2  # the questions were not scored


async def test_the_report_says_what_the_summary_buffer_saved(api: Client) -> None:
    path, auth = await new_room(api)
    long_answer = "I would describe the system, the trade-offs and the failure modes in some detail. " * 6
    for n in range(8):  # pauses keep the interview on one question, so the transcript grows without ending
        await job_result(
            api, path, auth, {"text": f"{long_answer} ({n})"} if n % 2 else {"text": f"Let me think ({n})."}
        )
    room_id = path.split("/")[2]
    await api.post(f"/rooms/{room_id}/end", headers=auth)
    context = (await await_report(api, room_id, auth))["context"]
    assert context["turns"] == 8
    assert context["tokenizer"] == "all-MiniLM-L6-v2 WordPiece"
    assert 0 < context["prompt_tokens"] < context["transcript_tokens"]
    assert context["saving"] == round(1 - context["prompt_tokens"] / context["transcript_tokens"], 3)
