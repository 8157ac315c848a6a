"""Temporal client factory and the msgspec data converter shared by the API, the workers and the agent."""

from __future__ import annotations

from typing import Any

import msgspec
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.client import Client
from temporalio.contrib.opentelemetry import TracingInterceptor
from temporalio.converter import (
    BinaryNullPayloadConverter,
    BinaryPlainPayloadConverter,
    BinaryProtoPayloadConverter,
    CompositePayloadConverter,
    DataConverter,
    EncodingPayloadConverter,
    JSONProtoPayloadConverter,
)


class MsgspecJSONPayloadConverter(EncodingPayloadConverter):
    """`json/plain` payloads encoded and decoded (typed, validated) by msgspec: our Structs cross as JSON."""

    @property
    def encoding(self) -> str:
        return "json/plain"

    def to_payload(self, value: Any) -> Payload | None:
        try:
            data = msgspec.json.encode(value)
        except TypeError:
            return None
        return Payload(metadata={"encoding": b"json/plain"}, data=data)

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        return msgspec.json.decode(payload.data, type=Any if type_hint is None else type_hint)


class MsgspecPayloadConverter(CompositePayloadConverter):
    def __init__(self) -> None:
        super().__init__(
            BinaryNullPayloadConverter(),
            BinaryPlainPayloadConverter(),
            JSONProtoPayloadConverter(),
            BinaryProtoPayloadConverter(),
            MsgspecJSONPayloadConverter(),  # last: it takes anything msgspec can encode
        )


DATA_CONVERTER = DataConverter(payload_converter_class=MsgspecPayloadConverter)


async def connect(address: str, namespace: str = "default", *, lazy: bool = False) -> Client:
    """`lazy`: connect on first use, so a process can start (and report) while Temporal is down."""
    # The tracing interceptor carries the caller's trace through Temporal into workflows and activities (a worker
    # takes its client's interceptors); without an OTLP endpoint the spans are not sent, but log lines carry their ids.
    return await Client.connect(
        address, namespace=namespace, data_converter=DATA_CONVERTER, lazy=lazy, interceptors=[TracingInterceptor()]
    )


async def queue_backlog(client: Client, namespace: str, queue: str, task_type: TaskQueueType.ValueType) -> int:
    """Temporal's approximate count of the tasks waiting on `queue` (raises RPCError when it cannot say)."""
    described = await client.workflow_service.describe_task_queue(
        DescribeTaskQueueRequest(
            namespace=namespace, task_queue=TaskQueue(name=queue), task_queue_type=task_type, report_stats=True
        )
    )
    return int(described.stats.approximate_backlog_count)
