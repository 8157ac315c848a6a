"""How well a resume meets a job description: each of the JD's requirements and nice-to-haves, covered, partly
covered or missing, with the resume chunk that shows it; a score; and the topics a mock interview should probe.

Named skills and "N+ years" are judged by rules (exact, explainable); anything else by the cosine similarity of
the requirement's embedding to the closest resume chunk's. Resume text is data here, never instructions.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

from activities.ingest import open_structure
from activities.structure import skills_in
from activities.vault import Vault, decode_wrapped, open_sealed
from schema.documents import Coverage, DocumentStructure, Evidence, MatchReport, RequirementMatch
from schema.tables import DocumentChunk

# Cosine between a requirement and a resume chunk (all-MiniLM-L6-v2) at which the resume counts as showing it.
# On the sample documents: requirements the resume meets scored 0.47-0.71, unrelated ones (iOS, a mechanical
# engineering degree, leading data scientists) 0.19-0.33.
COVERED_AT = 0.45
NICE_TO_HAVE_WEIGHT = 0.25
_YEARS_WANTED = re.compile(r"(\d+)\s*\+?\s*years", re.IGNORECASE)
MATCHED_SECTIONS = ("requirements", "nice_to_have")


class IncomparableDocuments(ValueError):
    """The two documents' vectors come from different embedding models."""


async def match_documents(vault: Vault, resume: dict[str, Any], jd: dict[str, Any], *, this_year: int) -> MatchReport:
    """`resume` and `jd`: their `document` rows (id, wrapped_key, structure_sealed, embedding_provider), indexed."""
    if resume["embedding_provider"] != jd["embedding_provider"]:
        raise IncomparableDocuments(
            f"the resume was embedded by {resume['embedding_provider']} and the job description by "
            f"{jd['embedding_provider']}; upload them again under the same model to compare them"
        )
    resume_id, jd_id = str(resume["id"]), str(jd["id"])
    resume_key = vault.unwrap(decode_wrapped(resume["wrapped_key"]), resume_id)
    jd_key = vault.unwrap(decode_wrapped(jd["wrapped_key"]), jd_id)
    resume_structure = open_structure(resume_key, resume["structure_sealed"], resume_id)
    jd_structure = open_structure(jd_key, jd["structure_sealed"], jd_id)
    # Exact search: a resume has tens of chunks. For each requirement, the closest resume chunk.
    rows = await DocumentChunk.raw(
        "SELECT j.n AS jd_n, j.section AS jd_section, j.answer_sealed AS requirement, best.n AS resume_n, "
        "best.section AS resume_section, best.answer_sealed AS evidence, best.similarity "
        "FROM document_chunk j LEFT JOIN LATERAL ("
        "  SELECT r.n, r.section, r.answer_sealed, 1 - (j.answer_embedding <=> r.answer_embedding) AS similarity "
        "  FROM document_chunk r WHERE r.document = {} ORDER BY j.answer_embedding <=> r.answer_embedding LIMIT 1"
        ") best ON true WHERE j.document = {} AND j.section = ANY({}) ORDER BY j.n",
        uuid.UUID(resume_id),
        uuid.UUID(jd_id),
        list(MATCHED_SECTIONS),
    )
    years = experience_years(resume_structure, this_year)
    requirements = []
    for row in rows:
        text = open_sealed(jd_key, row["requirement"], jd_id, f"answer:{row['jd_n']}").decode()
        closest = None
        if row["resume_n"] is not None:
            excerpt = open_sealed(resume_key, row["evidence"], resume_id, f"answer:{row['resume_n']}").decode()
            closest = Evidence(
                chunk=row["resume_n"],
                section=row["resume_section"],
                excerpt=excerpt[:300],
                similarity=round(float(row["similarity"]), 3),
            )
        requirements.append(
            judge(text, row["jd_section"], row["jd_n"], closest, resume_skills=resume_structure.skills, years=years)
        )
    return report(
        resume_id,
        jd_id,
        requirements,
        resume=resume_structure,
        jd=jd_structure,
        embedding_provider=str(resume["embedding_provider"]),
    )


def experience_years(resume: DocumentStructure, this_year: int) -> int | None:
    """Years from the first position's start to the latest position's end (or now)."""
    if not resume.positions:
        return None
    start = min(p.start for p in resume.positions)
    end = max(p.end or this_year for p in resume.positions)
    return max(0, end - start)


def judge(
    requirement: str,
    section: str,
    chunk: int,
    closest: Evidence | None,
    *,
    resume_skills: list[str],
    years: int | None,
) -> RequirementMatch:
    skills = skills_in(requirement)
    covered = [s for s in skills if s in resume_skills]
    missing = [s for s in skills if s not in resume_skills]
    similarity = closest.similarity if closest is not None else 0.0
    shown = similarity >= COVERED_AT
    evidence = closest if shown or covered else None
    status: Coverage
    wanted = _YEARS_WANTED.search(requirement)
    if wanted is not None and years is not None and not skills:
        needed = int(wanted.group(1))
        status = "covered" if years >= needed else "partly" if shown else "missing"
        reason = f"{needed}+ years asked; the resume's positions span {years}"
    elif skills:
        status = "missing" if not covered else "partly" if missing else "covered"
        parts = [f"has {', '.join(covered)}" if covered else "", f"lacks {', '.join(missing)}" if missing else ""]
        reason = "named skills: " + "; ".join(filter(None, parts))
    else:
        status = "covered" if shown else "missing"
        reason = f"closest resume chunk {similarity:.2f} alike (covered at {COVERED_AT})"
    return RequirementMatch(
        requirement=requirement,
        section=section,
        chunk=chunk,
        status=status,
        skills_covered=covered,
        skills_missing=missing,
        evidence=evidence,
        reason=reason,
    )


def report(
    resume_id: str,
    jd_id: str,
    requirements: list[RequirementMatch],
    *,
    resume: DocumentStructure,
    jd: DocumentStructure,
    embedding_provider: str,
) -> MatchReport:
    credit = {"covered": 1.0, "partly": 0.5, "missing": 0.0}
    weights = [1.0 if r.section == "requirements" else NICE_TO_HAVE_WEIGHT for r in requirements]
    earned = sum(w * credit[r.status] for w, r in zip(weights, requirements, strict=True))
    required = [r for r in requirements if r.section == "requirements"]
    missing = _unique(s for r in required for s in r.skills_missing)
    # Claimed in the skills list but shown nowhere else in the resume: depth to probe.
    elsewhere = " ".join(s.text for s in resume.sections if s.name != "skills")
    unshown = [s for r in required for s in r.skills_covered if s not in skills_in(elsewhere)]
    focus = _unique(
        [
            *missing,
            *(r.requirement for r in required if r.status != "covered" and not r.skills_missing),
            *unshown,
            *(s for r in requirements if r.section == "nice_to_have" for s in r.skills_missing),
        ]
    )
    return MatchReport(
        resume_id=resume_id,
        jd_id=jd_id,
        score=round(100 * earned / sum(weights)) if weights else 0,
        required_skills_covered=_unique(s for r in required for s in r.skills_covered),
        required_skills_missing=missing,
        requirements=requirements,
        focus_topics=focus,
        seniority={"resume": resume.seniority, "jd": jd.seniority},
        provider=f"{embedding_provider} + rules:skills-and-years",
    )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))
