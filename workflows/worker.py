"""Temporal worker: registers the workflows and their activities on the task queue(s)."""

from __future__ import annotations

import logging

from redis.asyncio import Redis
from temporalio.client import Client
from temporalio.worker import Worker

from activities.applications import MailActivities
from activities.digest import DigestActivities
from activities.embeddings import build_embedder
from activities.gmail import GmailActivities
from activities.grounding import PlanGrounder
from activities.imap import ImapActivities
from activities.ingest import DocumentActivities
from activities.interview import InterviewActivities
from activities.llm import build_interviewer, llm_breaker
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
from stack.settings import Settings
from workflows.digest import WeeklyDigestWorkflow
from workflows.email_sync import EmailSyncWorkflow, ScheduledEmailSync
from workflows.ingest import DocumentIngestWorkflow
from workflows.interview import InterviewWorkflow
from workflows.postings import PostingIndexWorkflow
from workflows.reminder import ReminderWorkflow

log = logging.getLogger(__name__)


async def interview_worker(
    client: Client, settings: Settings, redis: Redis, bank: QuestionBank, *, task_queue: str | None = None
) -> Worker:
    """`redis` holds state shared by every worker and the API (the LLM circuit breaker, cached embeddings) and
    carries replies' openings to the voice agent; `bank` is read from Postgres at start (QuestionBank.load).
    The bank's questions are embedded before the worker serves, so no activity waits on it (when the embedding
    provider is unreachable, the worker serves anyway and the first search embeds them)."""
    embedder = build_embedder(settings)
    cached_embedder = CachedEmbedder(embedder, redis, settings.embedding_cache_seconds)
    bank_index = BankIndex(cached_embedder)
    try:
        await bank_index.ensure_embedded()
    except Exception as exc:
        # A provider that is down must not keep the worker from serving: interviews without a person or documents
        # need no embeddings, and the first search embeds the bank instead.
        log.warning("the question bank could not be embedded yet (%s); the first search will try again", exc)
    vault = Vault(lambda: master_keys_of(settings))
    activities = InterviewActivities(
        build_interviewer(settings),
        bank,
        bank_index,
        breaker=llm_breaker(settings, redis),
        leads=ReplyLeads(redis),
        grounder=PlanGrounder(vault, bank, bank_index, settings.retrieval_query_weight),
    )
    # Document chunks are embedded uncached: Redis holds no vectors of resume text.
    documents = DocumentActivities(vault, embedder)
    reviews = ReviewActivities(bank)
    voice = VoiceActivities(build_tts(settings))
    mail = MailActivities(vault, build_email_reader(settings))
    gmail = GmailActivities(vault, settings)
    delivery = build_delivery(settings)
    todos = TodoActivities(delivery, client, settings)
    # Postings are embedded uncached (each once); the roles a profile is made of are short and repeat.
    postings = PostingActivities(embedder)
    digests = DigestActivities(cached_embedder, vault, delivery, settings)
    sync_requests = SyncRequests(client, task_queue or settings.interview_task_queue)
    return Worker(
        client,
        task_queue=task_queue or settings.interview_task_queue,
        workflows=[
            InterviewWorkflow,
            DocumentIngestWorkflow,
            EmailSyncWorkflow,
            ScheduledEmailSync,
            ReminderWorkflow,
            PostingIndexWorkflow,
            WeeklyDigestWorkflow,
        ],
        activities=[
            activities.plan_interview,
            activities.record_turn,
            activities.record_voice_metrics,
            activities.respond,
            activities.shadow_score,
            activities.write_report,
            activities.write_hint,
            reviews.review_code,
            voice.speak_reply,
            documents.extract_document,
            documents.index_document,
            documents.discard_document,
            gmail.fetch_gmail,
            ImapActivities(vault).fetch_imap,
            mail.pending_messages,
            mail.analyse_message,
            mail.apply_analyses,
            todos.follow_up_todos,
            todos.schedule_reminders,
            todos.deliver_notifications,
            todos.reminder_plan,
            todos.send_reminder,
            sync_requests.request_sync,
            postings.index_postings,
            digests.send_weekly_digest,
        ],
    )
