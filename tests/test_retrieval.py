"""Retrieval on the real stack: recruiters search the question bank by meaning (HNSW), and texts embedded once are
not embedded again (Redis for searched and asked texts, Postgres for the bank), counted at an OpenAI stand-in."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from redis.asyncio import Redis

from activities.embeddings import OpenAIEmbedder
from activities.llm import openai_client
from activities.retrieval import BankIndex, CachedEmbedder
from schema.tables import QuestionEmbedding
from stack.services import Endpoints
from stack.settings import load_settings
from stack.supervisor import free_port
from tests.conftest import sign_up
from tests.standins.openai_api import Behaviour, running


async def test_a_recruiter_finds_bank_questions_by_meaning(api: httpx.AsyncClient) -> None:
    auth, _ = await sign_up(api, role="recruiter")
    found = await api.get(
        "/questions/search", params={"q": "throttling API clients across many machines"}, headers=auth
    )
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["results"][0]["question_id"] == "kn-rate-limiter"  # no word in common but "API"
    assert body["provider"] == "local:all-MiniLM-L6-v2, hnsw"
    similarities = [r["similarity"] for r in body["results"]]
    assert len(similarities) == 5 and similarities == sorted(similarities, reverse=True)
    shortened = await api.get("/questions/search", params={"q": "tiny links for long URLs", "limit": 2}, headers=auth)
    assert shortened.json()["results"][0]["question_id"] == "kn-url-shortener"
    assert len(shortened.json()["results"]) == 2


async def test_question_search_refuses_candidates_and_bad_queries(api: httpx.AsyncClient) -> None:
    candidate, _ = await sign_up(api)
    refused = await api.get("/questions/search", params={"q": "rate limiter"}, headers=candidate)
    assert refused.status_code == 403 and "recruiters" in refused.json()["detail"]
    assert (await api.get("/questions/search", params={"q": "rate limiter"})).status_code == 401
    recruiter, _ = await sign_up(api, role="recruiter")
    for params in ({"q": "   "}, {"q": "x" * 301}, {}, {"q": "cache", "limit": 0}, {"q": "cache", "limit": 21}):
        response = await api.get("/questions/search", params=params, headers=recruiter)
        assert response.status_code == 400, (params, response.text)
        assert response.json()["detail"]


@pytest.fixture
async def standin() -> AsyncIterator[tuple[Behaviour, OpenAIEmbedder]]:
    behaviour = Behaviour()
    async with running(behaviour) as base_url:
        settings = load_settings({"OPENAI_API_KEY": "sk-standin", "OPENAI_BASE_URL": base_url})
        yield behaviour, OpenAIEmbedder(openai_client(settings), settings.embedding_model)


def embedded_inputs(behaviour: Behaviour) -> list[list[str]]:
    return [body["input"] for kind, body in behaviour.requests if kind == "embeddings"]


async def test_a_text_embedded_once_costs_no_second_call(
    standin: tuple[Behaviour, OpenAIEmbedder], endpoints: Endpoints
) -> None:
    behaviour, embedder = standin
    redis = Redis.from_url(endpoints.redis_url)
    cached = CachedEmbedder(embedder, redis, ttl_seconds=60)
    await redis.delete(
        *(cached.cache_key(text) for text in ("How do indexes work?", "What is a B-tree?", "Why Kafka?"))
    )
    first = await cached.embed(["How do indexes work?", "What is a B-tree?"])
    again = await cached.embed(["What is a B-tree?", "How do indexes work?"])
    assert embedded_inputs(behaviour) == [["How do indexes work?", "What is a B-tree?"]]
    assert again.vectors == [first.vectors[1], first.vectors[0]]
    await cached.embed(["Why Kafka?", "What is a B-tree?", "Why Kafka?"])
    assert embedded_inputs(behaviour)[1:] == [["Why Kafka?"]]  # only the new text, once
    await redis.aclose()


async def test_without_redis_texts_are_still_embedded(standin: tuple[Behaviour, OpenAIEmbedder]) -> None:
    behaviour, embedder = standin
    unreachable = Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=0.5)
    result = await CachedEmbedder(embedder, unreachable, ttl_seconds=60).embed(["Is Redis up?"])
    assert len(result.vectors[0]) == 384 and embedded_inputs(behaviour) == [["Is Redis up?"]]
    await unreachable.aclose()


async def test_the_bank_is_embedded_once_per_model_and_again_only_when_a_question_changes(
    standin: tuple[Behaviour, OpenAIEmbedder], db: None
) -> None:
    behaviour, embedder = standin
    # Workers of other tests may have embedded the bank at this stand-in's model already: start from none.
    await QuestionEmbedding.delete().where(QuestionEmbedding.provider == embedder.provider)
    try:
        embedded = await BankIndex(embedder).ensure_embedded()
        assert embedded >= 60 and len(embedded_inputs(behaviour)) == 1
        assert await BankIndex(embedder).ensure_embedded() == 0  # another process, later: nothing to embed
        assert len(embedded_inputs(behaviour)) == 1
        # A question whose text changed (an import) is embedded again, alone.
        await QuestionEmbedding.update({QuestionEmbedding.text_sha256: "0" * 64}).where(
            (QuestionEmbedding.provider == embedder.provider) & (QuestionEmbedding.question_id == "kn-tls")
        )
        assert await BankIndex(embedder).ensure_embedded() == 1
        assert len(embedded_inputs(behaviour)[-1]) == 1
    finally:  # the stand-in's vectors all point one way: keep them out of the shared index
        await QuestionEmbedding.delete().where(QuestionEmbedding.provider == embedder.provider)
