"""The question bank: the starter bank's coding questions pass their own tests; it is stored in Postgres; teams
import their own questions, and a broken one is refused whole."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import msgspec
import pytest

from activities.code_runner import CodeTest, run_tests
from activities.question_bank import BankFile, BankQuestion, QuestionBank
from schema.tables import Question
from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import service_env

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


async def test_the_starter_bank_is_in_postgres_with_at_least_sixty_questions(db: None) -> None:
    rows = await Question.select(Question.stage).where(Question.source == "starter")
    stages = Counter(row["stage"] for row in rows)
    assert len(rows) >= 60
    assert stages["behavioural"] >= 10 and stages["knowledge"] >= 25 and stages["coding"] >= 15
    stored = await QuestionBank.load()  # other tests add their own questions to the bank
    assert {q.id for q in stored.questions} >= {q.id for q in QuestionBank.packaged().questions}


def seed_file(settings: Settings, endpoints: Endpoints, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "stack.cli", "seed", "--file", str(path)],
        env=service_env(settings, endpoints),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_a_team_imports_its_own_questions_and_a_broken_one_stores_nothing(
    db: None, settings: Settings, endpoints: Endpoints, tmp_path: Path
) -> None:
    two_sum = QuestionBank.packaged().get("code-two-sum")
    own = msgspec.structs.replace(two_sum, id=f"team-{uuid.uuid4().hex[:8]}", text="Our own two-sum variant.")
    broken = msgspec.structs.replace(
        own, id=f"team-{uuid.uuid4().hex[:8]}", reference="def two_sum(nums, t):\n    return []\n"
    )
    bank_path = tmp_path / "bank.json"

    bank_path.write_bytes(msgspec.json.encode(BankFile(version=1, questions=[own, broken])))
    refused = seed_file(settings, endpoints, bank_path)
    assert refused.returncode == 2, refused.stderr
    assert f"{broken.id}: its reference solution does not pass its tests" in refused.stderr
    assert "nothing was stored" in refused.stderr
    assert not await Question.exists().where(Question.id == own.id)

    bank_path.write_bytes(msgspec.json.encode(BankFile(version=1, questions=[own])))
    imported = seed_file(settings, endpoints, bank_path)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "question bank: 1 added, 0 updated, 0 kept"
    row = await Question.select(Question.source, Question.body).where(Question.id == own.id).first()
    assert row is not None and row["source"] == "imported"
    assert msgspec.json.decode(row["body"], type=BankQuestion).text == "Our own two-sum variant."

    not_json = tmp_path / "notes.txt"
    not_json.write_text("just some notes")
    garbled = seed_file(settings, endpoints, not_json)
    assert garbled.returncode == 2
    assert "is not a question bank" in garbled.stderr
