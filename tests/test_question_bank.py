"""The starter bank: every coding question's reference solution passes its own tests in the sandbox."""

from __future__ import annotations

import pytest

from activities.code_runner import CodeTest, run_tests
from activities.question_bank import BankQuestion, QuestionBank

CODING = [q for q in QuestionBank.packaged().questions if q.stage == "coding"]


@pytest.mark.parametrize("question", CODING, ids=lambda q: q.id)
def test_reference_solutions_pass_their_tests_and_hint_ladders_have_three_levels(question: BankQuestion) -> None:
    assert question.function and question.reference
    assert len(question.hints) == 3
    assert question.function not in question.hints[0] and "def " not in " ".join(question.hints[:2])
    result = run_tests(
        question.reference, question.function, [CodeTest(t.name, t.args, t.expected) for t in question.tests]
    )
    assert result.status == "ran" and result.passed == len(question.tests), result
    assert any(t.category == "edge_cases" for t in question.tests)


def test_every_difficulty_has_a_coding_question() -> None:
    assert {q.difficulty for q in CODING} == {"easy", "medium", "hard"}
