"""Job recommendations: the postings a user may see, ranked by a weighted sum of two cosine similarities: of the
posting (title and description) to the user's newest resume (its chunks' mean vector), and of the posting's title
to the roles they applied for (their titles' mean vector). Titles are compared with titles: a short role name
against a whole posting says little. Companies that turned the user down recently, roles they already applied for
and postings that have closed are left out.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from activities.embeddings import Embedder
from activities.ingest import open_structure, vector_literal
from activities.mail_fields import same_company
from activities.postings import unindexed_count
from activities.structure import skills_in
from activities.vault import Vault, decode_wrapped
from schema.postings import Exclusion, Recommendation, Recommendations
from schema.tables import Document, JobPosting

RESUME_WEIGHT = 0.6
HISTORY_WEIGHT = 0.4
HISTORY_ROLES = 50  # the newest applications' roles; older interests fade
CLOSE_TO_RESUME = 0.35  # below this a posting is not said to be "close to your resume"
CLOSE_TO_ROLE = 0.5  # nor "like your application for ..." (title to title)

Vector = NDArray[np.float64]


class NoProfile(LookupError):
    """Nothing to rank against: no resume embedded by the current model and no application with a role."""


@dataclass
class Profile:
    resume_id: str | None = None
    resume: Vector | None = None
    resume_skills: list[str] = field(default_factory=list)
    roles: list[tuple[str, str]] = field(default_factory=list)  # (position, company) applied for
    role_vectors: Vector | None = None  # one row per role
    history: Vector | None = None

    def weights(self) -> tuple[float, float]:
        """How much the resume and the application history count; one alone counts fully."""
        if self.resume is None and self.history is None:
            raise NoProfile(
                "There is nothing to rank postings against yet: upload your resume (POST /documents) or import your "
                "job-application emails (POST /applications/import)."
            )
        if self.resume is None or self.history is None:
            return (1.0, 0.0) if self.resume is not None else (0.0, 1.0)
        return RESUME_WEIGHT, HISTORY_WEIGHT


def _unit(vector: Vector) -> Vector:
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm else vector


def _parse(text: str) -> Vector:
    return np.array([float(value) for value in text.strip("[]").split(",")], dtype=np.float64)


async def profile_of(owner: uuid.UUID, embedder: Embedder, vault: Vault) -> Profile:
    profile = Profile()
    resume = (
        await Document.select(Document.id, Document.wrapped_key, Document.structure_sealed)
        .where(
            (Document.owner == owner)
            & (Document.kind == "resume")
            & (Document.status == "ready")
            & (Document.embedding_provider == embedder.provider)
        )
        .order_by(Document.created_at, ascending=False)
        .first()
    )
    if resume is not None:
        mean = await Document.raw(
            "SELECT avg(answer_embedding)::text AS mean FROM document_chunk WHERE document = {}", resume["id"]
        )
        if mean and mean[0]["mean"]:
            resume_id = str(resume["id"])
            profile.resume_id = resume_id
            profile.resume = _unit(_parse(mean[0]["mean"]))
            key = vault.unwrap(decode_wrapped(resume["wrapped_key"]), resume_id)
            profile.resume_skills = open_structure(key, resume["structure_sealed"], resume_id).skills
    roles = await Document.raw(
        "SELECT position, company FROM application WHERE owner = {} AND NOT archived AND position IS NOT NULL "
        "AND status <> 'withdrawn' ORDER BY updated_at DESC LIMIT {}",
        owner,
        HISTORY_ROLES,
    )
    if roles:
        profile.roles = [(row["position"], row["company"]) for row in roles]
        titles = sorted({position for position, _ in profile.roles})
        by_title = dict(zip(titles, (await embedder.embed(titles)).vectors, strict=True))
        profile.role_vectors = np.array([by_title[position] for position, _ in profile.roles], dtype=np.float64)
        profile.history = _unit(profile.role_vectors.mean(axis=0))
    return profile


async def _rejections(owner: uuid.UUID, since: dt.datetime) -> list[tuple[str, dt.datetime]]:
    rows = await Document.raw(
        "SELECT a.company, max(e.occurred_at) AS at FROM application a JOIN application_event e "
        "ON e.application = a.id WHERE a.owner = {} AND e.status = 'rejection' AND e.occurred_at >= {} "
        "GROUP BY a.company",
        owner,
        since,
    )
    return [(row["company"], row["at"]) for row in rows]


async def recommend(
    owner: uuid.UUID,
    embedder: Embedder,
    vault: Vault,
    *,
    limit: int,
    skip_rejected_days: int,
    now: dt.datetime,
    leave_out: list[uuid.UUID] | None = None,
) -> Recommendations:
    """The `limit` best postings for `owner`, best first; `leave_out`: postings not to recommend (sent before).
    Raises NoProfile."""
    profile = await profile_of(owner, embedder, vault)
    resume_weight, history_weight = profile.weights()
    rejected = await _rejections(owner, now - dt.timedelta(days=skip_rejected_days))
    # Counted before ranking: "none waiting" then means every posting ranked below had its vectors already.
    unindexed = await unindexed_count(embedder.provider, visible_to=owner)
    # An absent part has weight 0; any unit vector stands in for it.
    resume = profile.resume if profile.resume is not None else profile.history
    history = profile.history if profile.history is not None else profile.resume
    assert resume is not None and history is not None
    rows = await JobPosting.raw(
        "SELECT id, company, title, location, url, description, closes_at, embedding::text AS embedding, "
        "title_embedding::text AS title_embedding, "
        "{} * (1 - (embedding <=> {}::vector)) + {} * (1 - (title_embedding <=> {}::vector)) AS score "
        "FROM job_posting WHERE embedding IS NOT NULL AND embedding_provider = {} AND (shared OR publisher = {}) "
        "AND (closes_at IS NULL OR closes_at > {}) AND NOT (id = ANY({})) ORDER BY score DESC, id LIMIT {}",
        resume_weight,
        vector_literal(list(resume)),
        history_weight,
        vector_literal(list(history)),
        embedder.provider,
        owner,
        now,
        leave_out or [],
        # Room for what is left out below (fuzzy company names are matched here, not in SQL).
        limit * 4 + 40,
    )
    chosen: list[Recommendation] = []
    excluded: dict[str, Exclusion] = {}
    seen: set[tuple[str, str]] = set()
    applied = [(position.casefold(), company) for position, company in profile.roles]
    for row in rows:
        if len(chosen) == limit:
            break
        refusal = next(((name, at) for name, at in rejected if same_company(name, row["company"])), None)
        if refusal is not None:
            excluded.setdefault(
                refusal[0], Exclusion(company=refusal[0], reason=f"turned you down on {refusal[1]:%d %b %Y}")
            )
            continue
        title = row["title"].casefold()
        if any(position == title and same_company(company, row["company"]) for position, company in applied):
            continue  # applied for already
        job = (row["company"].casefold(), title)
        if job in seen:
            continue  # the same job from two publishers
        seen.add(job)
        chosen.append(_recommendation(row, profile))
    return Recommendations(
        recommendations=chosen,
        resume_id=profile.resume_id,
        applications=len(profile.roles),
        excluded=sorted(excluded.values(), key=lambda exclusion: exclusion.company),
        unindexed=unindexed,
        embedding_provider=embedder.provider,
    )


def _recommendation(row: dict[str, Any], profile: Profile) -> Recommendation:
    because: list[str] = []
    resume_similarity = history_similarity = None
    if profile.resume is not None:
        resume_similarity = round(float(_parse(row["embedding"]) @ profile.resume), 3)
        if resume_similarity >= CLOSE_TO_RESUME:
            because.append("close to your resume")
    if profile.role_vectors is not None:
        similarities = profile.role_vectors @ _parse(row["title_embedding"])
        nearest = int(np.argmax(similarities))
        history_similarity = round(float(similarities[nearest]), 3)
        if history_similarity >= CLOSE_TO_ROLE:
            position, company = profile.roles[nearest]
            because.append(f"like your application for {position} at {company}")
    text = f"{row['title']}\n{row['description']}"
    resume_skills = set(profile.resume_skills)
    skills = [skill for skill in skills_in(text) if skill in resume_skills]
    if skills:
        because.append(f"asks for {', '.join(skills[:5])}, which your resume shows")
    closes_at = row["closes_at"]
    return Recommendation(
        posting_id=str(row["id"]),
        company=row["company"],
        title=row["title"],
        location=row["location"],
        url=row["url"],
        closes_at=closes_at.isoformat() if closes_at else None,
        similarity=round(float(row["score"]), 3),
        resume_similarity=resume_similarity,
        history_similarity=history_similarity,
        because=because,
        skills=skills,
    )
