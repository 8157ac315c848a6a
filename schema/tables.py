"""Piccolo tables. The DDL lives in migrations/ (raw SQL, with its constraints); these mirror it."""

from typing import Any

from piccolo.columns import (
    JSONB,
    UUID,
    Array,
    BigInt,
    Boolean,
    Bytea,
    Column,
    Integer,
    Real,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.column_types import ForeignKey
from piccolo.table import Table


class AppUser(Table, tablename="app_user"):
    id = UUID(primary_key=True)
    email = Varchar(length=254)
    display_name = Varchar(length=120)
    password_hash = Text()
    role = Varchar(length=12)
    created_at = Timestamptz()
    vip = Boolean(default=False)  # their jobs jump the task queues' backlogs


class RefreshToken(Table):
    id = UUID(primary_key=True)
    account = ForeignKey(references=AppUser)
    family = UUID()
    token_hash = Varchar(length=64)
    expires_at = Timestamptz()
    used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class Room(Table):
    id = UUID(primary_key=True)
    role = Varchar(length=80)
    difficulty = Varchar(length=10)
    mode = Varchar(length=10)
    status = Varchar(length=10)
    candidate_name = Varchar(length=120)
    candidate = ForeignKey(references=AppUser, null=True, default=None)
    recruiter = ForeignKey(references=AppUser, null=True, default=None)
    created_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    # The candidate's resume and the job description the plan was drawn from (documents of the room's creator).
    resume = UUID(null=True, default=None)
    jd = UUID(null=True, default=None)
    application = UUID(null=True, default=None)  # the job application this mock interview prepares for


class RoomInterviewer(Table):
    room = ForeignKey(references=Room, primary_key=True)
    interviewer = ForeignKey(references=AppUser)


class TranscriptTurn(Table):
    room = ForeignKey(references=Room)
    seq = Integer()
    speaker = Varchar(length=10)
    stage = Varchar(length=20)
    question_id = Varchar(length=60, null=True, default=None)
    text = Text()
    provider = Varchar(length=80, null=True, default=None)
    # Set on candidate turns once the interviewer model has scored them.
    score = Real(null=True, default=None)
    evaluation = JSONB(null=True, default=None)
    created_at = Timestamptz()
    tokens = Integer(null=True, default=None)  # the turn's text, counted by activities/tokens.py
    # On candidate turns the AI answered: the context it was shown and the whole transcript then, in tokens.
    prompt_tokens = Integer(null=True, default=None)
    transcript_tokens = Integer(null=True, default=None)
    voice = JSONB(null=True, default=None)  # on AI turns spoken by the voice agent: schema.interview.VoiceTurnMetrics
    shadow = JSONB(null=True, default=None)  # on answers given while a person interviewed: schema.interview.ShadowScore
    grounded_in = JSONB(null=True, default=None)  # on AI questions drawn from the candidate's documents: Citation


class InterviewContext(Table):
    """A room's running summary of the turns too old to send verbatim (the summary buffer)."""

    room = ForeignKey(references=Room, primary_key=True)
    summary = Text()
    summarised_through = Integer()  # the last turn folded into the summary; -1 for none
    updated_at = Timestamptz()


class InterviewReport(Table):
    room = ForeignKey(references=Room, primary_key=True)
    body = JSONB()
    provider = Varchar(length=80)
    created_at = Timestamptz()


class CodeSubmission(Table):
    room = ForeignKey(references=Room)
    question_id = Varchar(length=60)
    attempt = Integer()
    code = Text()
    review = JSONB()
    signals = Array(base_column=Text())
    created_at = Timestamptz()


class Question(Table):
    """The question bank; `body` is the whole question (activities/question_bank.py BankQuestion)."""

    id = Varchar(length=60, primary_key=True)
    stage = Varchar(length=20)
    difficulty = Varchar(length=10)
    roles = Array(base_column=Text())
    body = JSONB()
    source = Varchar(length=20)  # starter | imported | team (written in mocki)
    bank_version = Integer()
    updated_at = Timestamptz()
    revision = BigInt()  # set by a trigger on every write, from one sequence
    retired_at = Timestamptz(null=True, default=None)  # no longer planned; interviews that asked it still read it
    updated_by = ForeignKey(references=AppUser, null=True, default=None)
    owner = ForeignKey(references=AppUser, null=True, default=None)  # who wrote it in mocki
    shared = Boolean(default=True)  # False: planned only into the owner's rooms


class ReplyAudio(Table):
    """The interviewer's reply at transcript turn `seq`, spoken (a WAV), for clients that asked for audio."""

    room = ForeignKey(references=Room)
    seq = Integer()
    wav = Bytea()
    seconds = Real()
    provider = Varchar(length=80)
    created_at = Timestamptz()


class Vector(Column):
    """pgvector's `vector(n)`; values are written and read as its text form ('[0.1,0.2,...]')."""

    def __init__(self, dimensions: int, **kwargs: Any) -> None:
        self.dimensions = dimensions
        super().__init__(**kwargs)

    @property
    def column_type(self) -> str:
        return f"vector({self.dimensions})"


class Document(Table):
    """A resume or job description. Everything taken from the file is sealed (activities/vault.py)."""

    id = UUID(primary_key=True)
    owner = ForeignKey(references=AppUser)
    kind = Varchar(length=10)
    status = Varchar(length=12)
    filename_sealed = Bytea(null=True, default=None)
    content_type = Varchar(length=80)
    bytes = Integer()
    pages = Integer(null=True, default=None)
    wrapped_key = Bytea()
    original_sealed = Bytea()
    text_sealed = Bytea(null=True, default=None)
    structure_sealed = Bytea(null=True, default=None)
    chunks = Integer(null=True, default=None)
    embedding_provider = Varchar(length=80, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class DocumentChunk(Table):
    document = ForeignKey(references=Document)
    n = Integer()
    section = Varchar(length=30)
    query_sealed = Bytea()
    answer_sealed = Bytea()
    query_embedding = Vector(384)
    answer_embedding = Vector(384)


class QuestionEmbedding(Table):
    """A bank question's embedding under one model (activities/retrieval.py BankIndex); HNSW-indexed."""

    question_id = Varchar(length=60)
    provider = Varchar(length=80)
    text_sha256 = Varchar(length=64)
    embedding = Vector(384)


class Application(Table):
    """A job the user applied for (or was referred to), merged from emails by company + position, or made by hand."""

    id = UUID(primary_key=True)
    owner = ForeignKey(references=AppUser)
    company = Varchar(length=200)
    position = Varchar(length=200, null=True, default=None)
    status = Varchar(length=24)
    archived = Boolean(default=False)
    source = Varchar(length=10)  # email | manual
    created_at = Timestamptz()
    updated_at = Timestamptz()


class MailMessage(Table):
    """An email imported for analysis; the message itself (schema ParsedEmail) is sealed with its own data key."""

    id = UUID(primary_key=True)
    owner = ForeignKey(references=AppUser)
    message_id = Varchar(length=300)
    source = Varchar(length=10)  # upload | gmail | imap
    sent_at = Timestamptz(null=True, default=None)
    wrapped_key = Bytea()
    sealed = Bytea()
    analysis = JSONB(null=True, default=None)  # activities.mail_classifier.EmailAnalysis
    analysed_at = Timestamptz(null=True, default=None)
    applied_at = Timestamptz(null=True, default=None)  # merged into the applications (or found not to be about one)
    application = ForeignKey(references=Application, null=True, default=None)
    created_at = Timestamptz()
    external_id = Varchar(length=100, null=True, default=None)  # the mailbox's own id (Gmail's message id)


class GmailAccount(Table):
    """A user's connected Gmail: OAuth tokens (schema.gmail.GmailTokens) sealed with the row's own data key, the
    filters, and where the incremental sync left off (Gmail's history id)."""

    owner = ForeignKey(references=AppUser, primary_key=True)
    address = Varchar(length=254)
    wrapped_key = Bytea()
    sealed_tokens = Bytea()
    status = Varchar(length=10)  # active | reconnect (Google refused the tokens: connect again)
    status_reason = Text(null=True, default=None)
    labels = Array(base_column=Text())  # fetch only mail with one of these labels (names or ids); none: all mail
    window_days = Integer(default=90)  # a full sync reads this many days back
    history_id = Varchar(length=40, null=True, default=None)
    generation = Integer(default=0)  # bumped by a (re)connect or new filters: a sync begun before records nothing
    connected_at = Timestamptz()
    synced_at = Timestamptz(null=True, default=None)
    fetched = Integer(default=0)  # messages the last look at Gmail fetched
    skipped = JSONB(default="[]")  # what the last syncs could not read, with the reason (newest 20)
    last_error = Text(null=True, default=None)


class ImapAccount(Table):
    """A user's IMAP account: the password sealed with the row's own data key, where the sync left off."""

    owner = ForeignKey(references=AppUser, primary_key=True)
    host = Varchar(length=253)
    port = Integer()
    security = Varchar(length=8)  # ssl | starttls | plain (loopback only)
    username = Varchar(length=254)
    folder = Varchar(length=200)
    window_days = Integer(default=90)
    wrapped_key = Bytea()
    sealed_password = Bytea()
    status = Varchar(length=10)  # active | reconnect
    status_reason = Text(null=True, default=None)
    uidvalidity = Integer(null=True, default=None)  # the folder's numbering the last sync read (bigint in SQL)
    last_uid = Integer(default=0)
    generation = Integer(default=0)  # bumped by a reconnect: a sync begun before records nothing
    connected_at = Timestamptz()
    synced_at = Timestamptz(null=True, default=None)
    fetched = Integer(default=0)
    skipped = JSONB(default="[]")
    last_error = Text(null=True, default=None)


class ApplicationEvent(Table):
    """One step on an application's timeline; `message` is the email it came from (none for manual changes)."""

    id = UUID(primary_key=True)
    application = ForeignKey(references=Application)
    message = ForeignKey(references=MailMessage, null=True, default=None)
    status = Varchar(length=24)
    occurred_at = Timestamptz()
    summary = Text()
    deadline = Timestamptz(null=True, default=None)
    interview_at = Timestamptz(null=True, default=None)
    provider = Varchar(length=80)
    created_at = Timestamptz()


class Todo(Table):
    """Something the user has to do: generated from an application's event (`origin` names it, once) or by hand."""

    id = UUID(primary_key=True)
    owner = ForeignKey(references=AppUser)
    application = ForeignKey(references=Application, null=True, default=None)
    kind = Varchar(length=12)  # assessment | offer | interview | follow_up | manual
    title = Varchar(length=300)
    due_at = Timestamptz(null=True, default=None)
    status = Varchar(length=4)  # TODO | DONE
    origin = Varchar(length=120, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()
    done_at = Timestamptz(null=True, default=None)
    # The `updated_at` the todo's ReminderWorkflow was last told about; behind it, a sweep tells it again.
    reminders_synced_at = Timestamptz(null=True, default=None)


class Notification(Table):
    """An email to the user (a deadline reminder, a status change), written before it is sent and sent once:
    `dedupe_key` is unique, and the transport is given the row id as its idempotency key."""

    id = UUID(primary_key=True)
    owner = ForeignKey(references=AppUser)
    kind = Varchar(length=12)  # reminder | status
    dedupe_key = Varchar(length=200)
    todo = ForeignKey(references=Todo, null=True, default=None)
    application = ForeignKey(references=Application, null=True, default=None)
    due_at = Timestamptz(null=True, default=None)  # reminders: the deadline reminded of
    lead_seconds = Integer(null=True, default=None)  # reminders: how long before it
    subject = Text()
    body = Text()
    created_at = Timestamptz()
    sent_at = Timestamptz(null=True, default=None)
    transport = Varchar(length=10, null=True, default=None)  # resend | outbox
    delivery_id = Varchar(length=200, null=True, default=None)


class JobPosting(Table):
    """A job opening imported from a JSON or CSV file. A recruiter's or admin's postings are `shared` (every
    candidate's recommendations); a candidate's own import is theirs alone. Public data: nothing here is sealed."""

    id = UUID(primary_key=True)
    publisher = ForeignKey(references=AppUser)
    shared = Boolean()
    source_ref = Varchar(length=200)  # the file's id for it, else a digest of company, title and link
    company = Varchar(length=200)
    title = Varchar(length=200)
    location = Varchar(length=200, null=True, default=None)
    url = Text(null=True, default=None)
    description = Text()
    posted_at = Timestamptz(null=True, default=None)
    closes_at = Timestamptz(null=True, default=None)
    content_sha256 = Varchar(length=64)
    # Title and description, and the title alone; none until the PostingIndexWorkflow gets to the posting.
    embedding = Vector(384, null=True, default=None)
    title_embedding = Vector(384, null=True, default=None)
    embedding_provider = Varchar(length=80, null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class RecommendedPosting(Table):
    """A posting a weekly digest recommended to a user: the next digests recommend others."""

    id = UUID(primary_key=True)
    owner = ForeignKey(references=AppUser)
    posting = ForeignKey(references=JobPosting)
    notification = ForeignKey(references=Notification)
