"""A resume's or job description's text, structured: sections, entities (companies, titles, dates, skills,
seniority), chunks, and a question for each chunk ("What did you build at Acme?") so that retrieval can match
an interviewer's question against questions as well as against the candidate's own words.

Deterministic rules, no model: the text is data and is never followed as instructions.
"""

from __future__ import annotations

import re

from schema.documents import DocumentKind, DocumentStructure, Position, QueryAnswer, Section

CHUNK_CHARS = 500
# Headings, by the section they open (lower case, without trailing colon).
HEADINGS: dict[DocumentKind, dict[str, str]] = {
    "resume": {
        "experience": "experience",
        "work experience": "experience",
        "professional experience": "experience",
        "employment": "experience",
        "projects": "projects",
        "personal projects": "projects",
        "education": "education",
        "skills": "skills",
        "technical skills": "skills",
        "summary": "summary",
        "profile": "summary",
        "about me": "summary",
    },
    "jd": {
        "responsibilities": "responsibilities",
        "what you will do": "responsibilities",
        "what you'll do": "responsibilities",
        "requirements": "requirements",
        "qualifications": "requirements",
        "what we are looking for": "requirements",
        "what we're looking for": "requirements",
        "nice to have": "nice_to_have",
        "bonus": "nice_to_have",
        "about the role": "summary",
        "about us": "summary",
    },
}
SKILLS = (
    "python", "java", "go", "golang", "rust", "c++", "c#", "javascript", "typescript", "node.js", "react", "vue",
    "sql", "postgres", "postgresql", "mysql", "redis", "kafka", "rabbitmq", "elasticsearch", "mongodb", "dynamodb",
    "aws", "gcp", "azure", "docker", "kubernetes", "terraform", "linux", "git", "grpc", "graphql", "rest",
    "microservices", "distributed systems", "system design", "machine learning", "pytorch", "pandas", "spark",
    "airflow", "temporal", "ci/cd", "observability", "prometheus", "opentelemetry", "django", "flask", "fastapi",
    "spring", "kotlin", "swift", "html", "css", "data structures", "algorithms", "testing", "security",
)  # fmt: skip
_SKILL = re.compile(r"(?<![\w+#])(" + "|".join(re.escape(s) for s in SKILLS) + r")(?![\w+#])", re.IGNORECASE)
_YEARS = r"((?:19|20)\d\d)\s*(?:-|–|—|to)\s*((?:19|20)\d\d|present|now|current)"
_DATES = re.compile(_YEARS, re.IGNORECASE)
# "Senior Engineer at Acme Corp (2019 - 2023)", "Backend Engineer, Acme Corp, 2019-2023", "Acme Corp | Engineer"
_POSITION = re.compile(
    r"^(?P<title>[A-Z][\w/&+ .-]{2,60}?)\s*(?: at |, | \| | - | – | — )\s*(?P<company>[A-Z][\w&.' -]{1,60}?)"
    r"\s*[,(|]?\s*" + _YEARS,
    re.IGNORECASE,
)
_SENIORITY = (("intern", "intern"), ("junior", "junior"), ("principal", "principal"), ("staff", "staff"))
_SENIORITY_LATE = (("lead", "lead"), ("senior", "senior"), ("sr.", "senior"))


def structure(kind: DocumentKind, text: str) -> DocumentStructure:
    sections = split_sections(kind, text)
    positions = [p for s in sections if s.name in ("experience", "summary", "other") for p in _positions(s.text)]
    skills = sorted(skills_in(text))
    return DocumentStructure(
        sections=sections,
        positions=positions,
        skills=skills,
        seniority=_seniority(kind, text, positions),
        years=sorted({int(y) for m in _DATES.finditer(text) for y in m.groups() if y.isdigit()}),
    )


def split_sections(kind: DocumentKind, text: str) -> list[Section]:
    headings = HEADINGS[kind]
    sections: list[Section] = []
    name, lines = "header", list[str]()  # before the first heading: the name and contact lines, or a JD's title
    for line in text.split("\n"):
        heading = headings.get(line.strip().rstrip(":").strip().lower())
        if heading is not None and len(line) < 60:
            if any(part.strip() for part in lines):
                sections.append(Section(name=name, text="\n".join(lines).strip()))
            name, lines = heading, []
        else:
            lines.append(line)
    if any(part.strip() for part in lines):
        sections.append(Section(name=name, text="\n".join(lines).strip()))
    return sections


# A job description's lists, one chunk per item: each requirement is matched against the resume on its own.
ITEMISED_SECTIONS = ("responsibilities", "requirements", "nice_to_have")


def chunks_with_questions(kind: DocumentKind, structure: DocumentStructure) -> list[QueryAnswer]:
    """Each section in chunks of about CHUNK_CHARS (whole lines), each with the question it answers; a job
    description's requirements and responsibilities one item each."""
    pairs = []
    for section in structure.sections:
        itemised = kind == "jd" and section.name in ITEMISED_SECTIONS
        for chunk in _items(section.text) if itemised else _chunks(section.text):
            pairs.append(QueryAnswer(section=section.name, query=_question(kind, section.name, chunk), answer=chunk))
    return pairs


def _chunks(text: str) -> list[str]:
    """Whole lines up to CHUNK_CHARS; each position ("Engineer at Acme (2019 - 2023)") starts a chunk of its own."""
    chunks, current = [], ""
    for line in filter(None, (line.strip() for line in text.split("\n"))):
        if current and (len(current) + len(line) > CHUNK_CHARS or _positions(line)):
            chunks.append(current)
            current = ""
        current = f"{current}\n{line}".strip()
    return [*chunks, current] if current else chunks


def _items(text: str) -> list[str]:
    return [line.lstrip("-•* ").strip() for line in text.split("\n") if line.lstrip("-•* ").strip()]


def skills_in(text: str) -> list[str]:
    """The known skills named in `text`, normalised ("golang" -> "go"), in order of first mention."""
    return list(dict.fromkeys(_skill_name(m.group(1)) for m in _SKILL.finditer(text)))


def _question(kind: DocumentKind, section: str, chunk: str) -> str:
    position = next(iter(_positions(chunk)), None)
    if section == "experience" and position is not None:
        return f"What did you build at {position.company} as {position.title}?"
    first_line = chunk.split("\n", 1)[0][:80].rstrip(".:;, ")
    questions = {
        "experience": f"What did you work on here: {first_line}?",
        "projects": f"Tell me about your project: {first_line}.",
        "education": "Where and what did you study?",
        "skills": "Which languages, tools and technologies do you know?",
        "summary": "Tell me about yourself and your background." if kind == "resume" else "What is this role about?",
        "header": "Who is this?" if kind == "resume" else "What is the job title?",
        "responsibilities": "What will this role do day to day?",
        "requirements": "What skills and experience does this role require?",
        "nice_to_have": "What would be a bonus for this role?",
    }
    return questions.get(section, f"What does this say: {first_line}?")


def _positions(text: str) -> list[Position]:
    found = []
    for line in text.split("\n"):
        match = _POSITION.match(line.strip().lstrip("-•* "))
        if match:
            found.append(
                Position(
                    title=match.group("title").strip(),
                    company=match.group("company").strip(" ,"),
                    start=int(match.group(3)),
                    end=int(match.group(4)) if match.group(4).isdigit() else None,
                )
            )
    return found


def _skill_name(found: str) -> str:
    lowered = found.lower()
    return {"golang": "go", "postgresql": "postgres"}.get(lowered, lowered)


def _seniority(kind: DocumentKind, text: str, positions: list[Position]) -> str | None:
    titles = " ".join(p.title.lower() for p in positions[:1]) if kind == "resume" else text[:200].lower()
    for table in (_SENIORITY, _SENIORITY_LATE):
        for word, level in table:
            if re.search(rf"(?<!\w){re.escape(word)}(?!\w)", titles):
                return level
    if kind == "jd":
        wanted = re.search(r"(\d+)\+?\s*years", text.lower())
        return None if wanted is None else ("senior" if int(wanted.group(1)) >= 5 else "mid")
    return "mid" if positions else None
