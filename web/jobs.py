"""Jobs are workflow updates: started and accepted (or refused) at once, then polled, with finished ones cached."""

from __future__ import annotations

import asyncio
import math
import uuid
from typing import Any, TypeVar

import msgspec
from litestar import Response
from litestar.exceptions import NotFoundException
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE, HTTP_504_GATEWAY_TIMEOUT
from redis.asyncio import Redis
from redis.exceptions import RedisError
from temporalio.api.enums.v1 import PendingActivityState
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.exceptions import TimeoutError as TemporalTimeoutError
from temporalio.service import RPCError, RPCStatusCode

from activities.circuit import CircuitBreaker
from schema.interview import FailureReason, JobAccepted, JobProgress, JobStatus
from web import results
from web.errors import RETRY_AFTER_SECONDS, ConflictException, room_gone

# Even `wait=0` asks Temporal once whether the job is done; this bounds that one call.
MIN_POLL_SECONDS = 0.5
KNOWN_OUTCOME_SECONDS = 0.01


V = TypeVar("V", bound=JobProgress)


async def start(client: Client, redis: Redis, room_id: uuid.UUID, update: Any, argument: object) -> JobAccepted:
    """Start `update` on the room's workflow; a refusal by its validator is a 409 with the workflow's reason."""
    job_id = str(uuid.uuid4())
    try:
        handle = await client.get_workflow_handle(str(room_id)).start_update(
            update, argument, id=job_id, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        # The run that accepted it: after the interview continues as new, the job is still polled there.
        await results.remember_run(redis, room_id, uuid.UUID(job_id), handle.workflow_run_id)
        # A validator's refusal comes back as the update's outcome, already known: reading it costs no network
        # call. An accepted update has no outcome yet and the short wait just lapses.
        await asyncio.wait_for(handle.result(), timeout=KNOWN_OUTCOME_SECONDS)
    except WorkflowUpdateFailedError as exc:
        raise ConflictException(explain(exc)[1]) from exc
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        pass  # accepted and running
    except RPCError as exc:
        raise room_gone(exc) from exc
    return JobAccepted(job_id=job_id, workflow_id=str(room_id), status="running")


async def poll(
    client: Client,
    redis: Redis,
    room_id: uuid.UUID,
    job_id: uuid.UUID,
    *,
    kind: str,
    wait: int,
    result_type: type,
    view_type: type[V],
    breaker: CircuitBreaker | None,
) -> Response[V]:
    """The job's state, waiting up to `wait` seconds for it to finish; finished states are cached for 24 h.

    A job that failed because the AI provider is down answers 503 (with Retry-After), one whose provider timed out
    504: the poll is the client's gateway to that provider.
    """
    view = await results.cached(redis, room_id, job_id, kind, view_type)
    if view is None:
        view = await _ask_temporal(client, redis, room_id, job_id, kind, wait, result_type, view_type)
        if view.status in ("completed", "failed"):
            await results.remember(redis, room_id, job_id, kind, view)
    if view.reason == "provider_unavailable":
        retry_after = await provider_paused_for(breaker) or RETRY_AFTER_SECONDS
        return Response(view, status_code=HTTP_503_SERVICE_UNAVAILABLE, headers={"Retry-After": str(retry_after)})
    if view.reason == "provider_timeout":
        return Response(view, status_code=HTTP_504_GATEWAY_TIMEOUT)
    return Response(view, status_code=HTTP_200_OK)


async def provider_paused_for(breaker: CircuitBreaker | None) -> int | None:
    """Whole seconds until the AI provider's open circuit lets calls through again; None when it is not open, or
    when its state cannot be read (Redis unreachable: the provider is then given the benefit of the doubt)."""
    if breaker is None:
        return None
    try:
        circuit = await breaker.state()
    except RedisError:
        return None
    if circuit.state != "open":
        return None
    return math.ceil(circuit.retry_after_seconds or RETRY_AFTER_SECONDS)


async def _ask_temporal(  # noqa: PLR0917 - poll's own arguments, passed on
    client: Client,
    redis: Redis,
    room_id: uuid.UUID,
    job_id: uuid.UUID,
    kind: str,
    wait: int,
    result_type: type,
    view_type: type[V],
) -> V:
    workflow_id = str(room_id)
    run_id = await results.run_of(redis, room_id, job_id)
    update = client.get_workflow_handle(workflow_id, run_id=run_id).get_update_handle(
        str(job_id), result_type=result_type
    )
    try:
        result = await asyncio.wait_for(update.result(), timeout=max(wait, MIN_POLL_SECONDS))
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        status, progress = await _progress(client, workflow_id, str(job_id))
        return view_type(job_id=str(job_id), workflow_id=workflow_id, status=status, progress=progress)
    except WorkflowUpdateFailedError as exc:
        reason, message = explain(exc)
        return view_type(job_id=str(job_id), workflow_id=workflow_id, status="failed", error=message, reason=reason)
    except msgspec.ValidationError as exc:  # the job exists, but is of another kind (a hint asked for as a review)
        raise NotFoundException(f"no {kind} job {job_id} in this room") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFoundException(f"no {kind} job {job_id} in this room") from exc
        raise
    # Each job view is a JobProgress with its kind's `result` added, which the bound cannot express.
    return view_type(job_id=str(job_id), workflow_id=workflow_id, status="completed", result=result)  # type: ignore[call-arg]


async def _progress(client: Client, workflow_id: str, job_id: str) -> tuple[JobStatus, str | None]:
    """Queued or running, read from the workflow's pending activities (a job's activity ids start with its id)."""
    try:
        description = await client.get_workflow_handle(workflow_id).describe()
    except RPCError:
        return "running", None  # the poll still answers; only the detail is missing
    pending = description.raw_description.pending_activities
    mine = [activity for activity in pending if activity.activity_id.startswith(f"{job_id}/")]
    for activity in mine:
        if activity.state != PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED:
            continue
        if activity.attempt > 1:
            failure = activity.last_failure
            _, why = FAILURES.get(failure.application_failure_info.type, ("error", failure.message))
            attempt = f"attempt {activity.attempt} of {activity.maximum_attempts}"
            return "queued", f"retrying after a failure ({why}): {attempt}"
        return "queued", "waiting for a free worker"
    if mine:
        return "running", None
    if pending:
        return "queued", "waiting for this room's previous request to finish"
    return "running", None


# What a person is told when a job fails for a reason we know, by the error type at the root of the failure.
FAILURES: dict[str, tuple[FailureReason, str]] = {
    "AuthenticationError": (
        "provider_rejected",
        "the AI provider refused our credentials; an operator must fix the API key",
    ),
    "PermissionDeniedError": (
        "provider_rejected",
        "the AI provider refused this request; an operator must check the account",
    ),
    "InvalidModelOutput": ("invalid_output", "the AI's answer could not be understood, even after retrying; try again"),
    "RateLimitError": ("provider_unavailable", "the AI provider is busy, even after retrying; try again in a minute"),
    "InternalServerError": (
        "provider_unavailable",
        "the AI provider had an error, even after retrying; try again in a minute",
    ),
    "APIConnectionError": (
        "provider_unavailable",
        "the AI provider could not be reached, even after retrying; try again in a minute",
    ),
    "ProviderUnavailable": (
        "provider_unavailable",
        "the AI provider is failing, so the AI interviewer has paused; try again in a minute",
    ),
    "APITimeoutError": ("provider_timeout", "the AI provider did not answer in time, even after retrying; try again"),
    "SandboxUnavailable": (
        "sandbox_unavailable",
        "code cannot be run safely on this server; an operator must enable network namespaces",
    ),
    "LanguageUnavailable": (
        "sandbox_unavailable",
        "JavaScript cannot be run on this server (node is not installed); submit Python instead",
    ),
}
ACTIVITY_TIMED_OUT = FAILURES["APITimeoutError"]


# The interview workflow's own refusals: its validators raise ValueError, its handlers these types.
REFUSALS = {"ValueError", "RoomEnded", "InterviewFinished", "HintsUsed", "NotCoding"}


def explain(exc: WorkflowUpdateFailedError) -> tuple[FailureReason, str]:
    """Why a job failed, in words: the first error in the cause chain that we know how to explain."""
    chain: list[BaseException] = []
    error: BaseException | None = exc.cause
    while error is not None:
        chain.append(error)
        error = getattr(error, "cause", None) or error.__cause__
    for link in chain:
        if isinstance(link, ApplicationError):
            if link.type in FAILURES:
                return FAILURES[link.type]
            if link.type in REFUSALS:
                return "refused", link.message  # the workflow's own refusals are written for people
        if isinstance(link, TemporalTimeoutError):
            return ACTIVITY_TIMED_OUT  # every attempt ran out of time: the model call never answered
    root = chain[-1] if chain else exc
    kind = root.type if isinstance(root, ApplicationError) and root.type else type(root).__name__
    return "error", f"the AI could not answer ({kind}); try again"
