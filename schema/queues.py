"""The three task queues and what runs where. Every workflow runs on the interview queue; activities run on the
queue that suits them: `interview` for what a person in a room waits on (turns, hints, speech), `io` for model
batch work, embeddings and mail, `cpu` for parsing documents and running code. A deployment may prefix all three
(MOCKI_TASK_QUEUE_PREFIX), so several can share one Temporal namespace; a workflow finds the others from its own."""

from __future__ import annotations

from typing import Literal

from temporalio.common import Priority

QueueKind = Literal["interview", "io", "cpu"]
QUEUE_KINDS: tuple[QueueKind, ...] = ("interview", "io", "cpu")


def queue_name(prefix: str, kind: QueueKind) -> str:
    return f"{prefix}{kind}"


def sibling_queue(workflow_queue: str, kind: QueueKind) -> str:
    """The `kind` queue of the deployment whose interview queue is `workflow_queue`."""
    return queue_name(workflow_queue.removesuffix("interview"), kind)


# Temporal task priority: 1 runs first, 5 last; unset is 3. A VIP account's workflows (and, inheriting it, their
# activities) are taken from a backlogged queue before everyone else's. The server must run the priority matcher
# (`matching.useNewMatcher`; stack/services.py turns it on for the embedded Temporal).
VIP = Priority(priority_key=1)
NORMAL = Priority(priority_key=3)


def priority(vip: bool) -> Priority:
    return VIP if vip else NORMAL
