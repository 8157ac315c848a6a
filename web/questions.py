"""The question bank, for recruiters and admins (candidates would see the answers): search it by meaning, list,
read, write, retire and restore questions.

Who may do what: admins everything. A recruiter reads the shared questions and their own, writes their own
(unshared: planned only into rooms they make, web/rooms.py) and changes only those; sharing a question with every
interview is an admin's call. A question is retired, never deleted: interviews already planned still ask it. Edits,
retirements and restores take one advisory lock and must leave every stage an interview asks with a shared active
question, so no practice interview goes without, say, an opening question. A coding question's reference solution
runs against its tests (the sandbox) before anything is stored.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, delete, get, post, put
from litestar.datastructures import State
from litestar.exceptions import (
    ClientException,
    NotFoundException,
    PermissionDeniedException,
    ServiceUnavailableException,
)
from litestar.params import QueryParameter
from litestar.status_codes import HTTP_201_CREATED, HTTP_422_UNPROCESSABLE_ENTITY
from piccolo.engine import engine_finder

from activities.code_runner import SandboxUnavailable
from activities.question_bank import STAGES_ASKED, VISIBLE_QUESTION, BankQuestion, BankTest, KeyPoint, problems
from activities.retrieval import BankIndex
from schema.interview import QuestionFound, QuestionSearch
from schema.questions import (
    BankEntry,
    BankListItem,
    BankPage,
    KeyPointDraft,
    NewQuestion,
    QuestionDraft,
    QuestionEdit,
    TestDraft,
)
from schema.tables import Question
from web.accounts import Principal
from web.errors import ConflictException
from web.idempotency import OPT as IDEMPOTENT
from web.limits import READS, WRITES, limited

MAX_QUERY_CHARS = 300
MAX_RESULTS = 20
PAGE_LIMIT = 100
MAX_OFFSET = 1_000_000  # past any bank's size; keeps the number inside Postgres's bigint
RESERVED_IDS = frozenset({"search"})  # GET /questions/search is the search, not a question
log = logging.getLogger(__name__)

_ENTRY = (
    "SELECT q.id, q.body, q.source, q.revision, q.retired_at, q.shared, q.owner, q.updated_at, "  # noqa: S608
    "u.display_name AS updated_by FROM question q LEFT JOIN app_user u ON u.id = q.updated_by "
    f"WHERE q.id = {{}} AND {VISIBLE_QUESTION}"
)
# Visible to the caller (VISIBLE_QUESTION's two parameters first); filters are skipped when NULL.
_MATCHING = (
    f"FROM question q WHERE {VISIBLE_QUESTION} "
    "AND ({}::text IS NULL OR q.stage = {}) AND ({}::text IS NULL OR q.difficulty = {}) "
    "AND ({}::text IS NULL OR {} = ANY(q.roles) OR '*' = ANY(q.roles)) "
    "AND ({}::text IS NULL OR q.body->>'text' ILIKE {}) "
    "AND ({}::text = 'all' OR (q.retired_at IS NULL) = ({}::text = 'active')) "
)
_STAGE_ORDER = "array_position(ARRAY['intro', 'behavioural', 'knowledge', 'coding', 'candidate_questions'], q.stage)"
_DIFFICULTY_ORDER = "array_position(ARRAY['*', 'easy', 'medium', 'hard'], q.difficulty)"
# Stages an interview asks that would have no shared, active question left.
_STAGES_LEFT_EMPTY = (
    "SELECT s AS stage FROM unnest({}::text[]) s WHERE NOT EXISTS "
    "(SELECT 1 FROM question q WHERE q.stage = s AND q.shared AND q.retired_at IS NULL)"
)
_BANK_LOCK = "SELECT pg_advisory_xact_lock(hashtext('mocki:question-bank'))"


class QuestionController(Controller):
    path = "/questions"
    tags = ["questions"]

    @get("/search", guards=[limited(READS)], operation_id="searchQuestions")
    async def search(
        self,
        state: State,
        request: Request[Principal, None, Any],
        q: Annotated[str, QueryParameter(min_length=1, max_length=MAX_QUERY_CHARS, description="what to look for")],
        limit: Annotated[int, QueryParameter(ge=1, le=MAX_RESULTS)] = 5,
    ) -> QuestionSearch:
        """Active bank questions you may read nearest in meaning to `q` (semantic search over an HNSW index).

        Every result carries its similarity; repeated searches are answered from cached embeddings."""
        principal = _manager(request)
        query = " ".join(q.split())
        if not query:
            raise ClientException("q is blank: say what to look for")
        index: BankIndex = state.bank_index
        every, own = reader(principal)
        hits = await index.nearest(query, limit=limit, owner=own, unshared=every)
        ids = [hit.question_id for hit in hits]
        rows = await Question.select(Question.id, Question.body).where(Question.id.is_in(ids)) if ids else []
        bodies = {r["id"]: msgspec.json.decode(r["body"], type=BankQuestion) for r in rows}
        results = [
            QuestionFound(
                question_id=hit.question_id,
                stage=question.stage,
                difficulty=question.difficulty,
                roles=question.roles,
                text=question.text,
                similarity=hit.similarity,
            )
            for hit in hits
            if (question := bodies.get(hit.question_id)) is not None
        ]
        return QuestionSearch(query=query, results=results, provider=f"{index.provider}, hnsw")

    @get("/", guards=[limited(READS)], operation_id="listQuestions")
    async def list_questions(
        self,
        request: Request[Principal, None, Any],
        *,
        stage: Literal["intro", "behavioural", "knowledge", "coding", "candidate_questions"] | None = None,
        difficulty: Literal["easy", "medium", "hard", "*"] | None = None,
        role: Annotated[str | None, QueryParameter(max_length=40, description="one word: backend, sre...")] = None,
        text: Annotated[str | None, QueryParameter(max_length=MAX_QUERY_CHARS, description="words in it")] = None,
        status: Literal["active", "retired", "all"] = "active",
        offset: Annotated[int, QueryParameter(ge=0, le=MAX_OFFSET)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=PAGE_LIMIT)] = 50,
    ) -> BankPage:
        """The questions you may read, by stage (in the order an interview asks them), then difficulty and id."""
        principal = _manager(request)
        words = " ".join((text or "").split())
        pattern = "%" + re.sub(r"([\\%_])", r"\\\1", words) + "%" if words else None
        wanted_role = role.strip().lower() if role and role.strip() else None
        filters = (
            *reader(principal),
            stage,
            stage,
            difficulty,
            difficulty,
            wanted_role,
            wanted_role,
            pattern,
            pattern,
            status,
            status,
        )
        counted = await Question.raw("SELECT count(*) AS n " + _MATCHING, *filters)
        rows = await Question.raw(
            "SELECT q.id, q.stage, q.difficulty, q.roles, q.body->>'text' AS text, q.source, q.shared, q.owner, "
            "q.retired_at IS NOT NULL AS retired, q.updated_at "
            + _MATCHING
            + f"ORDER BY {_STAGE_ORDER}, {_DIFFICULTY_ORDER}, q.id LIMIT {{}} OFFSET {{}}",
            *filters,
            limit,
            offset,
        )
        items = [
            BankListItem(
                id=row["id"],
                stage=row["stage"],
                difficulty=row["difficulty"],
                roles=row["roles"],
                text=row["text"],
                source=row["source"],
                retired=row["retired"],
                shared=row["shared"],
                yours=row["owner"] == principal.id,
                updated_at=row["updated_at"],
            )
            for row in rows
        ]
        return BankPage(items=items, total=counted[0]["n"], offset=offset)

    @get("/{question_id:str}", guards=[limited(READS)], operation_id="getQuestion")
    async def get_question(self, request: Request[Principal, None, Any], question_id: str) -> BankEntry:
        """The whole question: rubric, tests, hints and reference solution, with its revision (send it back with
        an edit)."""
        principal = _manager(request)
        return _entry(principal, await _readable(principal, question_id))

    @post("/", status_code=HTTP_201_CREATED, guards=[limited(WRITES)], operation_id="createQuestion", opt=IDEMPOTENT)
    async def create_question(
        self, state: State, request: Request[Principal, None, Any], data: NewQuestion
    ) -> BankEntry:
        """Add a question. A recruiter's is theirs alone until an admin shares it; a coding question is stored only
        once its reference solution passes its tests."""
        principal = _manager(request)
        shared = principal.role == "admin" if data.shared is None else data.shared
        if shared and principal.role != "admin":
            raise PermissionDeniedException(
                "only an admin may share a question with every interview; leave `shared` out to keep it yours"
            )
        question_id = data.id or _new_id(data.text)
        if question_id in RESERVED_IDS:
            raise ClientException(
                f"{question_id!r} cannot be a question's id", status_code=HTTP_422_UNPROCESSABLE_ENTITY
            )
        question = await _usable(question_id, data)
        stored = await Question.raw(
            "INSERT INTO question (id, stage, difficulty, roles, body, source, bank_version, updated_at, "
            "updated_by, owner, shared) VALUES ({}, {}, {}, {}, {}::jsonb, 'team', 0, now(), {}, {}, {}) "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            question.id,
            question.stage,
            question.difficulty,
            question.roles,
            msgspec.json.encode(question).decode(),
            principal.id,
            principal.id,
            shared,
        )
        if not stored:
            raise ConflictException(f"the bank has a question with the id {question_id!r} already: choose another id")
        await _embed(state)
        return _entry(principal, await _readable(principal, question_id))

    @put("/{question_id:str}", guards=[limited(WRITES)], operation_id="editQuestion")
    async def edit_question(
        self, state: State, request: Request[Principal, None, Any], question_id: str, data: QuestionEdit
    ) -> BankEntry:
        """Replace a question you may change, naming the revision you read: if someone changed it since, nothing
        is overwritten (409). A starter question an admin edits is no longer refreshed by newer starter banks."""
        principal = _manager(request)
        if data.shared is not None and principal.role != "admin":
            raise PermissionDeniedException("only an admin may share or unshare a question; leave `shared` out")
        await _changeable(principal, question_id)
        question = await _usable(question_id, data)
        async with engine_finder().transaction():  # type: ignore[union-attr]
            await Question.raw(_BANK_LOCK)
            replaced = await Question.raw(
                "UPDATE question SET stage = {}, difficulty = {}, roles = {}, body = {}::jsonb, source = 'team', "
                "shared = coalesce({}, shared), updated_at = now(), updated_by = {} "
                "WHERE id = {} AND revision = {} RETURNING revision",
                question.stage,
                question.difficulty,
                question.roles,
                msgspec.json.encode(question).decode(),
                data.shared,
                principal.id,
                question_id,
                data.revision,
            )
            if not replaced:
                now_at = (await _readable(principal, question_id))["revision"]
                raise ConflictException(
                    f"{question_id} changed since you read it (revision {data.revision}; it is at {now_at} now): "
                    "reload it and make your change again"
                )
            await _keep_every_stage_asked()
        await _embed(state)
        return _entry(principal, await _readable(principal, question_id))

    @delete("/{question_id:str}", status_code=200, guards=[limited(WRITES)], operation_id="retireQuestion")
    async def retire_question(self, request: Request[Principal, None, Any], question_id: str) -> BankEntry:
        """Retire a question: new interviews no longer ask it; ones that did still read and score it. Refused
        (409) for the last shared question of a stage every interview asks."""
        return await _set_retired(_manager(request), question_id, retired=True)

    @post("/{question_id:str}/restore", status_code=200, guards=[limited(WRITES)], operation_id="restoreQuestion")
    async def restore_question(self, request: Request[Principal, None, Any], question_id: str) -> BankEntry:
        """Bring a retired question back into new interviews."""
        return await _set_retired(_manager(request), question_id, retired=False)


def reader(principal: Principal) -> tuple[bool, uuid.UUID]:
    """VISIBLE_QUESTION's parameters for this caller: every question for an admin, else shared ones and their own."""
    return principal.role == "admin", principal.id


def _manager(request: Request[Principal, None, Any]) -> Principal:
    if request.user.role == "candidate":
        raise PermissionDeniedException("only recruiters and admins may use the question bank (it holds the answers)")
    return request.user


async def _readable(principal: Principal, question_id: str) -> dict[str, Any]:
    """The question's row, if the caller may read it; anyone else's unshared question is as absent as a missing
    one (404), so its text does not leak. (Ids are one space: creating one with a taken id says it is taken.)"""
    rows = await Question.raw(_ENTRY, question_id, *reader(principal))
    if not rows:
        raise NotFoundException(f"no question {question_id!r} in the bank")
    row: dict[str, Any] = rows[0]
    return row


async def _changeable(principal: Principal, question_id: str) -> dict[str, Any]:
    row = await _readable(principal, question_id)
    if principal.role != "admin" and (row["shared"] or row["owner"] != principal.id):
        raise PermissionDeniedException(
            f"{question_id} is shared with every interview: only an admin may change it (write your own instead)"
        )
    return row


async def _usable(question_id: str, draft: QuestionDraft) -> BankQuestion:
    """The draft as a bank question, or 422 saying everything that keeps it from being asked."""
    question = BankQuestion(
        id=question_id,
        stage=draft.stage,
        roles=sorted({role.lower() for role in draft.roles}),
        difficulty=draft.difficulty,
        text=draft.text.strip(),
        key_points=[KeyPoint(point.name, [cue.strip().lower() for cue in point.cues]) for point in draft.key_points],
        topics=[topic.strip().lower() for topic in draft.topics],
        function=draft.function,
        tests=[BankTest(t.name, t.args, t.expected, t.category) for t in draft.tests],
        hints=draft.hints,
        reference=draft.reference,
    )
    try:
        found = await problems(question)
    except SandboxUnavailable:
        raise ServiceUnavailableException(
            "a coding question's reference solution must run before it is stored, and code cannot be run safely on "
            "this server; an operator must enable network namespaces"
        ) from None
    if found:
        raise ClientException(
            f"{question_id} cannot be asked: {'; '.join(found)}", status_code=HTTP_422_UNPROCESSABLE_ENTITY
        )
    return question


async def _keep_every_stage_asked() -> None:
    """Inside a bank write's transaction: refuse it if a stage every interview asks has no shared question left."""
    if empty := [row["stage"] for row in await Question.raw(_STAGES_LEFT_EMPTY, list(STAGES_ASKED))]:
        raise ConflictException(
            f"that would leave no shared {', '.join(empty)} question for new interviews: add or share another first"
        )


async def _set_retired(principal: Principal, question_id: str, *, retired: bool) -> BankEntry:
    await _changeable(principal, question_id)
    async with engine_finder().transaction():  # type: ignore[union-attr]
        await Question.raw(_BANK_LOCK)
        # Only a change is written: retiring twice keeps the first retirement's time and revision.
        await Question.raw(
            "UPDATE question SET retired_at = CASE WHEN {} THEN now() END, updated_at = now(), updated_by = {} "
            "WHERE id = {} AND (retired_at IS NULL) = {}",
            retired,
            principal.id,
            question_id,
            retired,
        )
        await _keep_every_stage_asked()
    return _entry(principal, await _readable(principal, question_id))


async def _embed(state: State) -> None:
    """Embed what was just written, so searches and matching find it at once. A failing embedder costs only that:
    the question is stored, and the next search embeds it."""
    index: BankIndex = state.bank_index
    try:
        await index.ensure_embedded(now=True)
    except Exception as exc:  # any embedder failure (network, quota, model) only defers work
        log.warning("a question bank write could not be embedded yet (%s); the next search will try again", exc)


def _new_id(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())[:5]
    return f"team-{'-'.join(words)[:40].strip('-') or 'question'}-{uuid.uuid4().hex[:6]}"


def _entry(principal: Principal, row: dict[str, Any]) -> BankEntry:
    question = msgspec.json.decode(row["body"], type=BankQuestion)
    return BankEntry(
        id=row["id"],
        # Built, not converted: a starter question need not fit the limits on what is written here.
        question=QuestionDraft(
            stage=question.stage,
            roles=question.roles,
            difficulty=question.difficulty,  # type: ignore[arg-type]
            text=question.text,
            key_points=[KeyPointDraft(point.name, point.cues) for point in question.key_points],
            topics=question.topics,
            function=question.function,
            tests=[TestDraft(t.name, t.args, t.expected, t.category) for t in question.tests],  # type: ignore[arg-type]
            hints=question.hints,
            reference=question.reference,
        ),
        source=row["source"],
        revision=row["revision"],
        retired=row["retired_at"] is not None,
        shared=row["shared"],
        yours=row["owner"] == principal.id,
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )
