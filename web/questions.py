"""The question bank, searched by meaning: for recruiters preparing interviews (candidates would see the answers)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.exceptions import ClientException, PermissionDeniedException
from litestar.params import QueryParameter

from activities.question_bank import BankQuestion
from activities.retrieval import BankIndex
from schema.interview import QuestionFound, QuestionSearch
from schema.tables import Question
from web.accounts import Principal
from web.limits import READS, limited

MAX_QUERY_CHARS = 300
MAX_RESULTS = 20


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
        """Bank questions nearest in meaning to `q` (semantic search over an HNSW index), for recruiters and admins.

        Every result carries its similarity; repeated searches are answered from cached embeddings."""
        if request.user.role == "candidate":
            raise PermissionDeniedException("only recruiters and admins may search the question bank")
        query = " ".join(q.split())
        if not query:
            raise ClientException("q is blank: say what to look for")
        index: BankIndex = state.bank_index
        hits = await index.nearest(query, limit=limit)
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
