"""Local all-MiniLM-L6-v2 (numpy) against sentence-transformers' own output."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from activities.embeddings import LocalMiniLMEmbedder, build_embedder
from activities.minilm import DIMENSIONS, MiniLMEncoder, ModelWeightsError, packaged_model_dir
from stack.settings import load_settings
from tests.conftest import SHARED

REFERENCE = SHARED / "reference" / "minilm_embeddings.json"
TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def encoder() -> MiniLMEncoder:
    return MiniLMEncoder()


def test_every_reference_text_matches_sentence_transformers_within_1e_5(encoder: MiniLMEncoder) -> None:
    assert REFERENCE.is_file(), f"the reference file is missing: {REFERENCE}"
    reference = json.loads(REFERENCE.read_text())
    assert len(reference["items"]) >= 17
    for item in reference["items"]:
        ours = encoder.encode(item["text"])
        assert len(ours) == DIMENSIONS
        worst = max(abs(a - b) for a, b in zip(ours, item["embedding"], strict=True))
        assert worst <= TOLERANCE, f"{item['text'][:40]!r}: off by {worst:.2e}"


def test_long_input_is_truncated_at_256_tokens_like_sentence_transformers(encoder: MiniLMEncoder) -> None:
    long_text = "distributed systems " * 400
    assert encoder.token_count(long_text) == 256


def test_weights_that_are_not_the_pinned_file_are_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model"
    fake.mkdir()
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(packaged_model_dir() / name, fake / name)
    (fake / "model.safetensors").write_bytes(b"not the model")
    with pytest.raises(ModelWeightsError, match="refusing to use an unverified model"):
        MiniLMEncoder(fake)


async def test_the_offline_embedder_is_chosen_without_a_key_and_labels_its_vectors() -> None:
    embedder = build_embedder(load_settings({}))
    assert isinstance(embedder, LocalMiniLMEmbedder)
    result = await embedder.embed(["What did you build at Acme?", "I built the billing pipeline."])
    assert result.provider == "local:all-MiniLM-L6-v2"
    assert [len(v) for v in result.vectors] == [DIMENSIONS, DIMENSIONS]
    norm = sum(x * x for x in result.vectors[0]) ** 0.5
    assert abs(norm - 1) < 1e-6
