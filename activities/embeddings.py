"""Text embeddings (384-dim): OpenAI text-embedding-3-small with `dimensions=384`, or local all-MiniLM-L6-v2."""

from __future__ import annotations

import asyncio
from functools import cached_property
from typing import Protocol

import msgspec
from openai import AsyncOpenAI

from activities.minilm import DIMENSIONS, MiniLMEncoder
from activities.model_metrics import model_call
from stack.settings import Settings


class Embeddings(msgspec.Struct, frozen=True, kw_only=True):
    vectors: list[list[float]]
    provider: str


class Embedder(Protocol):
    provider: str

    async def embed(self, texts: list[str]) -> Embeddings: ...


class LocalMiniLMEmbedder:
    """all-MiniLM-L6-v2 on the CPU with numpy; the weights load once, on first use, off the event loop."""

    provider = "local:all-MiniLM-L6-v2"

    @cached_property
    def _encoder(self) -> MiniLMEncoder:
        return MiniLMEncoder()

    async def embed(self, texts: list[str]) -> Embeddings:
        vectors = await asyncio.to_thread(lambda: [self._encoder.encode(t) for t in texts])
        return Embeddings(vectors=vectors, provider=self.provider)


class OpenAIEmbedder:
    def __init__(self, client: AsyncOpenAI, model: str) -> None:
        self._client = client
        self._model = model
        self.provider = f"openai:{model}"

    async def embed(self, texts: list[str]) -> Embeddings:
        async with model_call(self.provider, "embedding") as usage:
            response = await self._client.embeddings.create(model=self._model, input=texts, dimensions=DIMENSIONS)
            usage.input_tokens = response.usage.prompt_tokens if response.usage else 0
        vectors = [item.embedding for item in sorted(response.data, key=lambda item: item.index)]
        if any(len(v) != DIMENSIONS for v in vectors):
            raise ValueError(f"{self.provider} returned vectors that are not {DIMENSIONS}-dimensional")
        return Embeddings(vectors=vectors, provider=self.provider)


def build_embedder(settings: Settings, client: AsyncOpenAI | None = None) -> Embedder:
    if settings.resolved_provider(settings.embedding_provider) == "openai":
        from activities.llm import openai_client

        return OpenAIEmbedder(client or openai_client(settings), settings.embedding_model)
    return LocalMiniLMEmbedder()
