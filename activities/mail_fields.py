"""What an email says beyond its status: the employer, the job title, and the dates that matter (a deadline, an
interview's start), in the four languages the classifier reads. Pure functions.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable

from activities.mail_parse import ParsedEmail

_GENERIC = {"The", "Your", "We", "Hi", "Hello", "Dear", "Thank", "Thanks", "Re", "This", "Please", "Our", "A", "An"}

# ---- company and position ---------------------------------------------------------------------------------------

_BOARDS = re.compile(
    r"linkedin|indeed|glassdoor|ziprecruiter|greenhouse|lever|workday|myworkday|codility|hackerrank|codesignal|"
    r"testgorilla|hirevue|calendly|smartrecruiters|ashby|wellfound|xing|stepstone|infojobs",
    re.IGNORECASE,
)
_SENDER_NOISE = re.compile(
    r"\b(careers?|jobs?|recruiting|recruitment|talent( acquisition| community)?|hr|human resources|people( team)?|"
    r"hiring( team)?|candidate portal|referrals|team|no-?reply|notifications?|"
    # the same in German, French and Spanish: "Adatum Karriere", "Fabrikam Recrutement", "Hermosa RRHH"
    r"karriere|personalabteilung|recrutement|carrières|ressources humaines|équipe|rrhh|recursos humanos|empleos?|"
    r"equipo)\b",
    re.IGNORECASE,
)
_NAME_WORD = r"[A-Z][\w'&-]*(?:\.[\w'&-]+)*"  # "Margie's", "Adventure-Works", "Dr.No"; not "Travel."
_CAPITALISED = re.compile(rf"{_NAME_WORD}(?:[ \t]+(?:of|de|the|&)?[ \t]*{_NAME_WORD}){{0,3}}")
_COMPANY_CUES = [
    re.compile(
        rf"(?:viewed by|sent to|referred you to|applying to|apply to|application to|interest in|bei|chez|en) "
        rf"({_NAME_WORD}(?: {_NAME_WORD}){{0,3}})"
    ),
    re.compile(rf"({_NAME_WORD}(?: {_NAME_WORD}){{0,3}}) (?:viewed|looked at|has invited|invited you)"),
    re.compile(rf"\bat ({_NAME_WORD}(?: {_NAME_WORD}){{0,3}})"),
    re.compile(rf"^({_NAME_WORD}(?: {_NAME_WORD}){{0,3}}) [·-] ", re.MULTILINE),  # a job board's "Company · Place"
    re.compile(rf" - ({_NAME_WORD}(?: {_NAME_WORD}){{0,3}})$", re.MULTILINE),  # "Phone screen - Blue Yonder"
    re.compile(rf"\(({_NAME_WORD}(?: {_NAME_WORD}){{0,3}})\)"),  # "Interview - Operations Analyst (Coho Winery)"
]
_NOT_COMPANIES = re.compile(r"[A-Z]{2,5}|Remote|Hybrid|Onsite|On-site", re.IGNORECASE)  # zones, places of work


def _squash(text: str) -> str:
    """Letters and digits only, accents taken off: "Lumière" and lumiere.example are the same name."""
    unaccented = unicodedata.normalize("NFKD", text.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", unaccented)


def _domain_labels(address: str) -> list[str]:
    domain = address.rpartition("@")[2]
    labels = domain.split(".")[:-1]  # without the top-level domain
    return [_squash(label) for label in labels if label and not _BOARDS.fullmatch(label)]


def _matches_domain(name: str, labels: list[str]) -> bool:
    squashed, initials = _squash(name), _initials(name)
    return bool(squashed) and any(
        len(label) >= 3 and (label in (squashed, initials) or squashed.startswith(label) or label in squashed)
        for label in labels
    )


def _candidates(text: str) -> Iterable[str]:
    for match in _CAPITALISED.finditer(text):
        words = match.group(0).split()
        while words and words[0] in _GENERIC:
            words = words[1:]
        if words:
            yield " ".join(words).strip(" .,:;-")


def company_of(message: ParsedEmail) -> str | None:
    """The employer: named in the sender or the text and matching the sender's domain, else after a cue, else the
    domain itself ("Tailspin" for lena@tailspin.example). Mail the user sent names the employer in its To:."""
    sender = message.sender_name
    via = re.match(r"(.+?) via ", sender)
    if via and not _BOARDS.search(via.group(1)):
        return via.group(1).strip()
    for address in (message.sender_address, message.recipient_address):
        labels = _domain_labels(address)
        for text in (sender, message.subject, message.text):
            for candidate in _candidates(text):
                # "Lumen Health Recruiting" -> "Lumen Health": the longest matching start of the phrase.
                words = candidate.split()
                for end in range(len(words), 0, -1):
                    name = " ".join(words[:end])
                    if _matches_domain(name, labels) and not _SENDER_NOISE.fullmatch(name):
                        return _SENDER_NOISE.sub("", name).strip() or name
    sender_domain = _employer_label(message.sender_address)
    if sender_domain:  # an employer's own address: its domain names it better than any phrase
        return sender_domain
    for cue in _COMPANY_CUES:  # a job board or scheduling tool wrote it: the employer is named in the text
        for text in (message.subject, message.text):
            match = cue.search(text)
            name = match.group(1).strip(" .") if match else ""
            usable = name and name not in _GENERIC and not _NOT_COMPANIES.fullmatch(name)
            if usable and not _BOARDS.search(name) and not _TITLE.fullmatch(name):
                return name
    return _employer_label(message.recipient_address)


def _employer_label(address: str) -> str | None:
    labels = [label for label in _domain_labels(address) if label not in _PERSONAL_DOMAINS]
    return labels[-1].capitalize() if labels and not _BOARDS.search(address) else None


# Mail providers and the examples' own domain: a person's address there says nothing of an employer.
_PERSONAL_DOMAINS = {"gmail", "googlemail", "outlook", "hotmail", "yahoo", "icloud", "proton", "protonmail", "example"}


def same_company(one: str, other: str) -> bool:
    """The same employer written two ways: "Tailspin" (from a domain) and "Tailspin Toys", "Adventure-Works" and
    "Adventure Works"."""
    a, b = _squash(one), _squash(other)
    if not (a and b):
        return False
    if a == b or a == _initials(other) or b == _initials(one):  # "GDI" for Graphic Design Institute
        return True
    shorter, longer = sorted((a, b), key=len)
    return (len(shorter) >= 4 and longer.startswith(shorter)) or (len(shorter) >= 6 and shorter in longer)


def _initials(name: str) -> str:
    return "".join(word[0] for word in name.split() if word[0].isupper()).lower()


_ROLE_NOUNS = (
    r"Engineer|Developer|Designer|Analyst|Manager|Scientist|Architect|Trainer|Instructor|Technician|Planner|"
    r"Actuary|Editor|Lead|Researcher|Copywriter|Librarian|Assistant|Underwriter|Sommelier|Consultant|"
    r"Administrator|Specialist|Director|Officer|Coordinator|Recruiter|Accountant|Intern|Writer|Tester|"
    r"Producer|Associate|Supervisor|Scheduler|Handler|Adjuster|Broker|Steward|Buyer|Colorist|Paralegal|"
    r"Representative|Programmer|Controller|Bookseller|Leader|Hand|Clerk|Agent|Advisor|Auditor|Operator|"
    # German titles are one word, the role last: "Projektingenieur", "Backend-Entwicklerin", "Lagerleiter"
    r"(?=[A-ZÄÖÜ])[\w-]*?(?i:entwickler|ingenieur|leiter|berater|referent|disponent|techniker|kaufmann|kauffrau|"
    r"sachbearbeiter|praktikant|werkstudent)(?:in)?"
)
_TITLE = re.compile(rf"\b((?:(?:[A-Z]|i[A-Z])[\w+#/.-]*[ \t]+){{0,4}}(?:{_ROLE_NOUNS})(?:[ \t]+(?:I{{1,3}}|IV|V))?)\b")
# Spanish and French titles start with the role and go on in lower case: "Agente de viajes", "Chef de projet
# digital", "Responsable e-commerce", "Diseñador UX". A last lower-case word only at the end of a phrase, so "poste
# de Responsable de boutique et l'étudie" stops at "boutique".
_ROMANCE_TITLE = re.compile(
    r"\b(?:(?:Diseñador|Desarrollador|Coordinador|Programador|Vendedor|Consultor|Director)a?|Ingenier[oa]|Agente|"
    r"Analista|Técnic[oa]|Gerente|Jef[ea]|Responsable|Chargée?|Chef|Assistante?|Développeu(?:r|se)|Ingénieure?|"
    r"Conseill(?:er|ère)|Vendeu(?:r|se)|Directeur|Directrice)"
    r"(?:[ \t](?:de|du|des|del|de la|d')[ \t]?[\w-]+|[ \t][A-Z][\w-]*|[ \t][a-z]+-[a-z]+)*"
    r"(?:[ \t][a-zà-ÿ]+(?=[.,;:!?)]|$))?",
    re.MULTILINE,
)
# Words before a title that are not part of it: "Application received: Backend Engineer", "Ihre Bewerbung QA
# Analyst", "Candidature Assistant de production".
_BEFORE_TITLE = re.compile(
    r"^(?:(?:Application|Interview|Offer|Status|Update|Invitation|Confirmed|Your|Ihre|Bewerbung|Empfehlung|Zusage|"
    r"Angebot|Stelle|Position|Candidature|Candidatura|Poste|Puesto)\s+)+"
)


def position_of(subject: str, text: str) -> str | None:
    """The job title: the first title-cased phrase ending in a role noun, or Spanish or French role and its
    complement, in the subject, then the text; of two starting at the same word, the longer."""
    for source in (subject, text):
        found = [title for title in (_first_english_title(source), _first_romance_title(source)) if title]
        if found:
            return min(found, key=lambda title: (title[0], -len(title[1])))[1]
    return None


def _first_english_title(source: str) -> tuple[int, str] | None:
    """(where it starts, the title) of the first title-cased phrase ending in a role noun that is more than the
    words before a title; matches come in order, so no later one starts earlier."""
    for match in _TITLE.finditer(source):
        words = match.group(1).split()
        while words and (words[0] in _GENERIC or (words[0] in ("Senior", "Next") and len(words) == 1)):
            words = words[1:]
        if title := _BEFORE_TITLE.sub("", " ".join(words)):
            return match.end(1) - len(title), title
    return None


def _first_romance_title(source: str) -> tuple[int, str] | None:
    match = _ROMANCE_TITLE.search(source)
    return (match.start(), match.group()) if match else None


# ---- dates ------------------------------------------------------------------------------------------------------

_MONTHS = {
    name: n
    for n, names in enumerate(
        [
            ("january", "jan", "januar", "enero", "janvier"),
            ("february", "feb", "februar", "febrero", "février"),
            ("march", "mar", "märz", "marzo", "mars"),
            ("april", "apr", "abril", "avril"),
            ("may", "mai", "mayo"),
            ("june", "jun", "juni", "junio", "juin"),
            ("july", "jul", "juli", "julio", "juillet"),
            ("august", "aug", "agosto", "août"),
            ("september", "sep", "sept", "septiembre", "septembre"),
            ("october", "oct", "oktober", "octubre", "octobre"),
            ("november", "nov", "noviembre", "novembre"),
            ("december", "dec", "dezember", "diciembre", "décembre"),
        ],
        start=1,
    )
    for name in names
}
_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DATES = [
    # November 18, 2026 / Nov 18 / Friday, November 6
    (re.compile(rf"\b({_MONTH})\.? (\d{{1,2}})(?:st|nd|rd|th)?(?:,? (\d{{4}}))?", re.IGNORECASE), "mdy"),
    # 26 novembre 2026 / 25 de noviembre de 2026 / 8 décembre
    (re.compile(rf"\b(\d{{1,2}})\.? (?:de )?({_MONTH})(?: (?:de )?(\d{{4}}))?", re.IGNORECASE), "dmy"),
    # 09.11.2026
    (re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(\d{4})\b"), "numeric"),
]
_TIME = re.compile(
    r"(?:at |a las |à |um |, |from )?\b(\d{1,2})(?:[:h](\d{2}))? ?(am|pm|a\.m\.|p\.m\.)?(?: ?(utc|gmt|cet|cest|pst|"
    r"pdt|est|edt))?",
    re.IGNORECASE,
)
_ZONES = {"utc": 0, "gmt": 0, "cet": 1, "cest": 2, "pst": -8, "pdt": -7, "est": -5, "edt": -4}
_WITHIN = re.compile(
    r"(?:within|in|have|tienes|hast|avez|expires in) (\d{1,3}|one|two|three|five|seven) (hours?|days?|business days?|"
    r"días|tage|jours)",
    re.IGNORECASE,
)
_WORD_NUMBERS = {"one": 1, "two": 2, "three": 3, "five": 5, "seven": 7}
_DUE_CUES = re.compile(r"\b(by|before|until|expires on|bis zum|bis|antes del?|avant le|hasta el)\b", re.IGNORECASE)


def _dates_in(text: str, sent: dt.datetime) -> list[tuple[int, int, dt.date]]:
    """(start, end, date) of every date written in `text`; a date without a year is the next one after `sent`."""
    found = []
    for pattern, order in _DATES:
        for match in pattern.finditer(text):
            if order == "mdy":
                month, day, year = _MONTHS[match.group(1).lower()], int(match.group(2)), match.group(3)
            elif order == "dmy":
                day, month, year = int(match.group(1)), _MONTHS[match.group(2).lower()], match.group(3)
            else:
                day, month, year = int(match.group(1)), int(match.group(2)), match.group(3)
            try:
                date = dt.date(int(year) if year else sent.year, month, day)
            except ValueError:
                continue
            if not year and date < sent.date():
                date = date.replace(year=date.year + 1)
            found.append((match.start(), match.end(), date))
    return sorted(found)


def _time_after(text: str, start: int) -> tuple[int, int, int] | None:
    """(hour, minute, UTC offset) written just after a date, if any."""
    window = text[start : start + 40]
    for match in _TIME.finditer(window):
        hour, minute, meridiem, zone = match.groups()
        if minute is None and meridiem is None:
            continue  # a bare number ("2026") is not a time
        hour_value = int(hour) % 12 + (12 if meridiem and meridiem.lower().startswith("p") else 0)
        if not meridiem:
            hour_value = int(hour)
        if hour_value < 24 and int(minute or 0) < 60:
            return hour_value, int(minute or 0), _ZONES.get((zone or "utc").lower(), 0)
    return None


def moment_of(text: str, sent: dt.datetime) -> dt.datetime | None:
    """The first date-and-time on or after the email was sent (an interview's start), in UTC."""
    for _start, end, date in _dates_in(text, sent):
        if date < sent.date():
            continue
        at = _time_after(text, end)
        hour, minute, offset = at if at else (9, 0, 0)
        moment = dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=dt.UTC)
        return moment - dt.timedelta(hours=offset)
    return None


def deadline_of(text: str, sent: dt.datetime) -> dt.datetime | None:
    """When something is due: "within 72 hours" of the email, or a date after "by"/"before"/"bis"... (end of day)."""
    within = _WITHIN.search(text)
    if within:
        amount = _WORD_NUMBERS.get(within.group(1).lower()) or int(within.group(1))
        unit = within.group(2).lower()
        return sent + (dt.timedelta(hours=amount) if unit.startswith("hour") else dt.timedelta(days=amount))
    for start, _end, date in _dates_in(text, sent):
        if _DUE_CUES.search(text[max(0, start - 25) : start]):
            return dt.datetime(date.year, date.month, date.day, 23, 59, tzinfo=dt.UTC)
    return None
