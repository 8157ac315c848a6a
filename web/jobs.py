"""Jobs are workflow updates: started and accepted (or refused) at once, then polled, with finished ones cached."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any, Protocol, TypeVar

import msgspec
from litestar.exceptions import NotFoundException
from redis.asyncio import Redis
from temporalio.client import (
    Client,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
    WorkflowUpdateStage,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from schema.interview import JobAccepted, JobStatus
from web import results
from web.errors import ConflictException, room_gone

# Even `wait=0` asks Temporal once whether the job is done; this bounds that one call.
MIN_POLL_SECONDS = 0.5
KNOWN_OUTCOME_SECONDS = 0.01


class View(Protocol):
    def __init__(self, *, job_id: str, status: JobStatus, result: Any = None, error: str | None = None) -> None: ...


V = TypeVar("V", bound=View)


async def start(client: Client, room_id: uuid.UUID, update: Any, argument: object) -> JobAccepted:
    """Start `update` on the room's workflow; a refusal by its validator is a 409 with the workflow's reason."""
    job_id = str(uuid.uuid4())
    try:
        handle = await client.get_workflow_handle(str(room_id)).start_update(
            update, argument, id=job_id, wait_for_stage=WorkflowUpdateStage.ACCEPTED
        )
        # A validator's refusal comes back as the update's outcome, already known: reading it costs no network
        # call. An accepted update has no outcome yet and the short wait just lapses.
        await asyncio.wait_for(handle.result(), timeout=KNOWN_OUTCOME_SECONDS)
    except WorkflowUpdateFailedError as exc:
        raise ConflictException(failure_message(exc)) from exc
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
) -> V:
    """The job's state, waiting up to `wait` seconds for it to finish; finished states are cached for 24 h."""
    if view := await results.cached(redis, room_id, job_id, kind, view_type):
        return view
    update = client.get_workflow_handle(str(room_id)).get_update_handle(str(job_id), result_type=result_type)
    try:
        result = await asyncio.wait_for(update.result(), timeout=max(wait, MIN_POLL_SECONDS))
        view = view_type(job_id=str(job_id), status="completed", result=result)
    except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):
        return view_type(job_id=str(job_id), status="running")
    except WorkflowUpdateFailedError as exc:
        view = view_type(job_id=str(job_id), status="failed", error=failure_message(exc))
    except msgspec.ValidationError as exc:  # the job exists, but is of another kind (a hint asked for as a review)
        raise NotFoundException(f"no {kind} job {job_id} in this room") from exc
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            raise NotFoundException(f"no {kind} job {job_id} in this room") from exc
        raise
    await results.remember(redis, room_id, job_id, kind, view)
    return view


# What a person is told when a job fails for a reason we know, by the error type at the root of the failure.
FAILURE_MESSAGES = {
    "AuthenticationError": "the AI provider refused our credentials; an operator must fix the API key",
    "PermissionDeniedError": "the AI provider refused this request; an operator must check the account",
    "InvalidModelOutput": "the AI's answer could not be understood, even after retrying; try again",
    "RateLimitError": "the AI provider is busy, even after retrying; try again in a minute",
    "APITimeoutError": "the AI provider did not answer in time, even after retrying; try again",
    "APIConnectionError": "the AI provider could not be reached, even after retrying; try again",
    "SandboxUnavailable": "code cannot be run safely on this server; an operator must enable network namespaces",
}


# The interview workflow's own refusals: its validators raise ValueError, its handlers these types.
REFUSALS = {"ValueError", "RoomEnded", "InterviewFinished", "HintsUsed"}


def failure_message(exc: WorkflowUpdateFailedError) -> str:
    """Why a job failed, in words: the first error in the cause chain that we know how to explain."""
    chain: list[BaseException] = []
    error: BaseException | None = exc.cause
    while error is not None:
        chain.append(error)
        error = getattr(error, "cause", None) or error.__cause__
    for link in chain:
        if isinstance(link, ApplicationError):
            if link.type in FAILURE_MESSAGES:
                return FAILURE_MESSAGES[link.type]
            if link.type in REFUSALS:
                return link.message  # the workflow's own refusals are written for people
    root = chain[-1] if chain else exc
    kind = root.type if isinstance(root, ApplicationError) and root.type else type(root).__name__
    return f"the AI could not answer ({kind}); try again"
