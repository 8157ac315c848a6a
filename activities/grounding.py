"""The question-generation agent's plan from a candidate's resume (and the job description, when there is one).

- Behavioural and introduction questions are put to the candidate's own experience: the resume chunk (experience
  or project) closest to the question, by weighted query/answer retrieval, names where to tell it from.
- Knowledge questions target the job: the JD's focus topics (from the match report) or, without a JD, the
  resume's skills, each mapped to the nearest knowledge question in the bank (HNSW).
Each such question cites the chunk it came from. The rubric stays the bank question's: document text never
reaches a scoring prompt, so a resume cannot talk its way to a better score.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from activities.ingest import open_structure
from activities.matching import match_documents
from activities.question_bank import QuestionBank
from activities.retrieval import BankIndex, search_chunks
from activities.structure import SKILLS, skills_in
from activities.vault import Vault, decode_wrapped, open_sealed
from schema.documents import DocumentStructure
from schema.interview import Citation, PlannedQuestion, PlanRequest
from schema.tables import Document, DocumentChunk

# A topic no bank question is tagged with still finds a question this alike (all-MiniLM-L6-v2 cosine of the bare
# skill and the question). Measured: "docker" -> containers vs VMs 0.46, "grpc" -> REST or gRPC 0.56, while unrelated
# pairs reach 0.25 ("aws" -> observability) and "terraform", which the bank lacks, 0.18 at best.
TOPIC_AT = 0.4
TOPIC_CANDIDATES = 20
STORY_SECTIONS = ("experience", "projects")
MAX_NAME_CHARS = 40
MAX_NAME_WORDS = 5
GROUNDED_STAGES = ("intro", "behavioural")  # asked about the candidate's own experience


class Grounding(msgspec.Struct, frozen=True, kw_only=True):
    by_id: dict[str, PlannedQuestion]  # bank question id -> the question as it will be asked
    knowledge: list[PlannedQuestion]  # knowledge questions on the job's topics, in the order to ask them
    note: str  # for the plan's provider: what it was drawn from


class PlanGrounder:
    def __init__(self, vault: Vault, bank: QuestionBank, index: BankIndex, query_weight: float) -> None:
        self._vault = vault
        self._bank = bank
        self._index = index  # the bank's embeddings: a question's vector is the retrieval query for its story
        self._query_weight = query_weight

    async def ground(self, request: PlanRequest, asked: list[str]) -> Grounding | None:
        """`asked`: the plans' introduction and behavioural question ids, in the order they come. None when the
        room names no resume or it is gone (deleted after the room was made)."""
        rows = await _documents(request)
        resume, jd = rows.get("resume"), rows.get("jd")
        if resume is None:
            return None
        resume_id = str(resume["id"])
        key = self._vault.unwrap(decode_wrapped(resume["wrapped_key"]), resume_id)
        structure = open_structure(key, resume["structure_sealed"], resume_id)
        stories = await _story_chunks(key, resume_id)
        by_id = await self._stories(request, resume_id, asked, stories, structure)
        if jd is not None and jd["embedding_provider"] == resume["embedding_provider"]:
            topics = await self._job_topics(resume, jd)
            note = "resume + job description"
        else:
            topics = await self._resume_topics(resume_id, structure)
            note = "resume"
        return Grounding(by_id=by_id, knowledge=await self._knowledge(topics), note=note)

    async def _stories(
        self,
        request: PlanRequest,
        resume_id: str,
        asked: list[str],
        stories: dict[int, tuple[str, str]],
        structure: DocumentStructure,
    ) -> dict[str, PlannedQuestion]:
        """The introduction opens on the latest position; each behavioural question is asked about the closest
        experience or project, no two about the same one while others are left."""
        grounded: dict[str, PlannedQuestion] = {}
        questions = [self._bank.get(question_id) for question_id in asked]
        named = [p for p in structure.positions if _name_like(p.company) and _name_like(p.title)]
        latest = max(named, key=lambda p: (p.end or 9999, p.start), default=None)
        at = next((n for n, (_, text) in stories.items() if latest and latest.company in text), None)
        for question in [q for q in questions if q.stage == "intro"]:
            if latest is None or at is None:
                break
            opening = (
                f"I see you've been {latest.title} at {latest.company} since {latest.start}."
                if latest.end is None
                else f"I see your latest role was {latest.title} at {latest.company}."
            )
            grounded[question.id] = PlannedQuestion(
                id=question.id,
                stage=question.stage,
                text=f"{opening} {question.text}",
                grounded_in=Citation(document_id=resume_id, chunk=at, section="experience", why="the latest position"),
            )
        behavioural = [q for q in questions if q.stage == "behavioural"]
        if not behavioural or not stories:
            return grounded
        vectors = await self._index.vectors([q.id for q in behavioural])
        used: set[int] = set()
        for question in behavioural:
            if question.id not in vectors:
                continue
            hits = await search_chunks(
                str(request.documents_owner),
                vectors[question.id],
                limit=len(stories),
                query_weight=self._query_weight,
                answer_weight=1 - self._query_weight,
                document_ids=[resume_id],
                sections=STORY_SECTIONS,
            )
            if not hits:
                continue
            hit = next((h for h in hits if h.chunk not in used), hits[0])
            used.add(hit.chunk)
            place = _place(stories[hit.chunk][1], hit.section, structure)
            grounded[question.id] = PlannedQuestion(
                id=question.id,
                stage=question.stage,
                text=f"Thinking of {place}: {question.text[0].lower()}{question.text[1:]}",
                grounded_in=Citation(
                    document_id=resume_id,
                    chunk=hit.chunk,
                    section=hit.section,
                    why=f"the {hit.section} closest to this question ({hit.score:.2f} alike)",
                ),
            )
        return grounded

    async def _job_topics(self, resume: dict[str, Any], jd: dict[str, Any]) -> list[tuple[str, Citation]]:
        match = await match_documents(self._vault, resume, jd, this_year=dt.datetime.now(dt.UTC).year)
        jd_id = str(jd["id"])
        topics = []
        for topic in match.focus_topics:
            named = (r for r in match.requirements if topic in [*r.skills_missing, *r.skills_covered, r.requirement])
            source = next(named, None)
            if source is not None:
                why = f"the job asks for {topic} ({source.status} in the resume)"
                topics.append((topic, Citation(document_id=jd_id, chunk=source.chunk, section=source.section, why=why)))
        return topics

    async def _resume_topics(self, resume_id: str, structure: DocumentStructure) -> list[tuple[str, Citation]]:
        row = await (
            DocumentChunk.select(DocumentChunk.n)
            .where((DocumentChunk.document == uuid.UUID(resume_id)) & (DocumentChunk.section == "skills"))
            .first()
        )
        if row is None:
            return []
        listed = next((s.text for s in structure.sections if s.name == "skills"), "")
        # In the resume's own order: people list their strongest skills first.
        return [
            (skill, Citation(document_id=resume_id, chunk=row["n"], section="skills", why=f"the resume lists {skill}"))
            for skill in skills_in(listed) or structure.skills
        ]

    async def _knowledge(self, topics: list[tuple[str, Citation]]) -> list[PlannedQuestion]:
        """For each topic in order, a knowledge question on it not yet chosen: one tagged with the topic (the
        nearest of those by embedding), else the nearest untagged one if it is alike enough."""
        knowledge = [q for q in self._bank.questions if q.stage == "knowledge"]
        chosen: list[PlannedQuestion] = []
        for topic, citation in topics:
            free = [q for q in knowledge if all(c.id != q.id for c in chosen)]
            hits = await self._index.nearest(topic, limit=TOPIC_CANDIDATES)
            rank = {hit.question_id: n for n, hit in enumerate(hits)}
            tagged = sorted((q for q in free if topic in q.topics), key=lambda q: (rank.get(q.id, len(rank)), q.id))
            alike = [q for hit in hits if hit.similarity >= TOPIC_AT for q in free if q.id == hit.question_id]
            question = next(iter(tagged or alike), None)
            if question is None:
                continue
            # Say why the question comes up, when the topic is a named skill (never a document's own sentence).
            source = "This role asks for" if citation.section != "skills" else "Your resume lists"
            text = f"{source} {topic}. {question.text}" if topic in SKILLS else question.text
            chosen.append(PlannedQuestion(id=question.id, stage="knowledge", text=text, grounded_in=citation))
        return chosen


def apply(grounding: Grounding, plan: list[PlannedQuestion]) -> list[PlannedQuestion]:
    """`plan` with its introduction and behavioural questions grounded and its knowledge slots, in order, given to
    the job's topics; slots beyond the topics keep the bank's own choices (never one a topic already took)."""
    targeted = list(grounding.knowledge)
    topic_ids = {q.id for q in targeted}
    # Enough for every slot left: each bank choice a topic also took frees exactly one targeted question.
    spare = [q for q in plan if q.stage == "knowledge" and q.id not in topic_ids]
    planned: list[PlannedQuestion] = []
    for bank_choice in plan:
        if bank_choice.stage == "knowledge":
            planned.append(targeted.pop(0) if targeted else spare.pop(0) if spare else bank_choice)
        else:
            planned.append(grounding.by_id.get(bank_choice.id, bank_choice))
    return planned


async def _documents(request: PlanRequest) -> dict[str, dict[str, Any]]:
    """The room's ready documents, by kind; only the named owner's (the API checked, this keeps it so)."""
    ids = [uuid.UUID(d) for d in (request.resume_id, request.jd_id) if d]
    if not ids or request.documents_owner is None:
        return {}
    rows = await Document.select(
        Document.id, Document.kind, Document.wrapped_key, Document.structure_sealed, Document.embedding_provider
    ).where(
        Document.id.is_in(ids) & (Document.owner == uuid.UUID(request.documents_owner)) & (Document.status == "ready")
    )
    return {row["kind"]: row for row in rows}


async def _story_chunks(key: bytes, document_id: str) -> dict[int, tuple[str, str]]:
    """The resume's experience and project chunks, opened: number -> (section, text)."""
    rows = await DocumentChunk.select(DocumentChunk.n, DocumentChunk.section, DocumentChunk.answer_sealed).where(
        (DocumentChunk.document == uuid.UUID(document_id)) & DocumentChunk.section.is_in(list(STORY_SECTIONS))
    )
    return {
        row["n"]: (row["section"], open_sealed(key, row["answer_sealed"], document_id, f"answer:{row['n']}").decode())
        for row in rows
    }


def _place(chunk: str, section: str, structure: DocumentStructure) -> str:
    """Where the story is from, in a few words: the position's company, or the project's name."""
    if section == "experience":
        company = next((p.company for p in structure.positions if p.company in chunk), None)
        if company and _name_like(company):
            return f"your time at {company}"
    name = chunk.split(":", 1)[0].strip() if section == "projects" and ":" in chunk else None
    return f"your project {name}" if name and _name_like(name) else "your experience on your resume"


def _name_like(text: str) -> bool:
    """Short enough to be a name: the interviewer says names from a resume, never its sentences (which may be
    written to steer a model reading the transcript)."""
    return 0 < len(text) <= MAX_NAME_CHARS and len(text.split()) <= MAX_NAME_WORDS
