"""Temporal worker: registers the workflows and their activities on the task queue(s)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from redis.asyncio import Redis
from temporalio.client import Client
from temporalio.worker import Worker

from activities.applications import MailActivities
from activities.digest import DigestActivities
from activities.embeddings import Embedder, build_embedder
from activities.gmail import GmailActivities
from activities.grounding import PlanGrounder
from activities.imap import ImapActivities
from activities.ingest import DocumentActivities
from activities.interview import InterviewActivities
from activities.job_metrics import JobMetrics
from activities.llm import build_interviewer, llm_breaker
from activities.mail_classifier import train_in_background
from activities.mail_delivery import build_delivery
from activities.mail_llm import build_email_reader
from activities.postings import PostingActivities
from activities.question_bank import QuestionBank
from activities.reply_leads import ReplyLeads
from activities.retrieval import BankIndex, CachedEmbedder
from activities.review import ReviewActivities
from activities.speech import build_tts
from activities.sync_requests import SyncRequests
from activities.todos import TodoActivities
from activities.vault import Vault, master_keys_of
from activities.voice import VoiceActivities
from schema.queues import QUEUE_KINDS, QueueKind, queue_name
from stack.cache import TwoLevelCache
from stack.settings import Settings
from workflows.digest import WeeklyDigestWorkflow
from workflows.email_sync import EmailSyncWorkflow, ScheduledEmailSync
from workflows.ingest import DocumentIngestWorkflow
from workflows.interview import InterviewWorkflow
from workflows.postings import PostingIndexWorkflow
from workflows.reminder import ReminderWorkflow

log = logging.getLogger(__name__)


class WorkerGroup:
    """The Temporal workers of one process, one per task queue it serves, started and stopped together."""

    def __init__(self, workers: list[Worker]) -> None:
        self.workers = workers
        self._stack = contextlib.AsyncExitStack()

    async def __aenter__(self) -> WorkerGroup:
        for worker in self.workers:
            await self._stack.enter_async_context(worker)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()


async def mocki_workers(
    client: Client,
    settings: Settings,
    redis: Redis,
    bank: QuestionBank,
    *,
    kinds: Iterable[QueueKind] = QUEUE_KINDS,
) -> WorkerGroup:
    """Workers for the task queues of `kinds` (schema/queues.py), named with the settings' prefix; the interview
    queue's worker also runs every workflow, and each runs at most its queue's concurrency of activities at once.

    `redis` holds state shared by every worker and the API (the LLM circuit breaker, cached embeddings) and
    carries replies' openings to the voice agent; `bank` is read from Postgres at start (QuestionBank.load).
    The bank's questions are embedded before the worker serves, so no activity waits on it (when the embedding
    provider is unreachable, the worker serves anyway and the first search embeds them)."""
    kinds = tuple(kinds)
    embedder = build_embedder(settings)
    cached_embedder = CachedEmbedder(embedder, redis, settings.embedding_cache_seconds)
    bank_index = BankIndex(cached_embedder)
    if "interview" in kinds:
        try:
            await bank_index.ensure_embedded()
        except Exception as exc:
            # A provider that is down must not keep the worker from serving: interviews without a person or
            # documents need no embeddings, and the first search embeds the bank instead.
            log.warning("the question bank could not be embedded yet (%s); the first search will try again", exc)
    vault = Vault(lambda: master_keys_of(settings))
    interview = InterviewActivities(
        build_interviewer(settings),
        bank,
        bank_index,
        breaker=llm_breaker(settings, redis),
        leads=ReplyLeads(redis),
        grounder=PlanGrounder(vault, bank, bank_index, settings.retrieval_query_weight),
        cache=TwoLevelCache(redis, enabled=settings.cache_enabled),
    )
    # Document chunks are embedded uncached: Redis holds no vectors of resume text.
    documents = DocumentActivities(vault, embedder)
    activities: dict[QueueKind, Callable[[], list[Callable[..., Any]]]] = {
        # Local activities run on the workflow's own worker: the offline model's turn and silent score are here too.
        "interview": lambda: [
            interview.plan_interview,
            interview.record_turn,
            interview.record_voice_metrics,
            interview.respond,
            interview.shadow_score,
            interview.write_hint,
            VoiceActivities(build_tts(settings)).speak_reply,
        ],
        "io": lambda: _io_activities(
            client,
            settings,
            vault=vault,
            interview=interview,
            documents=documents,
            embedder=embedder,
            cached_embedder=cached_embedder,
        ),
        "cpu": lambda: [documents.extract_document, ReviewActivities(bank).review_code],
    }
    concurrency = {
        "interview": settings.interview_concurrency,
        "io": settings.io_concurrency,
        "cpu": settings.cpu_concurrency,
    }
    workers = [
        Worker(
            client,
            task_queue=queue_name(settings.task_queue_prefix, kind),
            workflows=WORKFLOWS if kind == "interview" else [],
            activities=activities[kind](),
            max_concurrent_activities=concurrency[kind],
            interceptors=[JobMetrics()],
        )
        for kind in kinds
    ]
    return WorkerGroup(workers)


def _io_activities(
    client: Client,
    settings: Settings,
    *,
    vault: Vault,
    interview: InterviewActivities,
    documents: DocumentActivities,
    embedder: Embedder,
    cached_embedder: CachedEmbedder,
) -> list[Callable[..., Any]]:
    delivery = build_delivery(settings)
    mail = MailActivities(vault, build_email_reader(settings))
    train_in_background()  # the offline reader answers when the model cannot: it must be ready before the first sync
    todos = TodoActivities(delivery, client, settings)
    # Postings are embedded uncached (each once); the roles a profile is made of are short and repeat.
    postings = PostingActivities(embedder)
    digests = DigestActivities(cached_embedder, vault, delivery, settings)
    return [
        interview.write_report,
        interview.shadow_score,
        documents.index_document,
        documents.discard_document,
        GmailActivities(vault, settings).fetch_gmail,
        ImapActivities(vault).fetch_imap,
        mail.pending_messages,
        mail.analyse_messages,
        mail.analyse_message,  # still scheduled by syncs that began before batches
        mail.apply_analyses,
        todos.follow_up_todos,
        todos.schedule_reminders,
        todos.deliver_notifications,
        todos.reminder_plan,
        todos.send_reminder,
        SyncRequests(client, settings.interview_task_queue).request_sync,
        postings.index_postings,
        digests.send_weekly_digest,
    ]


WORKFLOWS = [
    InterviewWorkflow,
    DocumentIngestWorkflow,
    EmailSyncWorkflow,
    ScheduledEmailSync,
    ReminderWorkflow,
    PostingIndexWorkflow,
    WeeklyDigestWorkflow,
]
