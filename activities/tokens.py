"""Counting tokens with a real tokenizer: the WordPiece vocabulary of the packaged all-MiniLM-L6-v2 model.

It is not the tokenizer of any chat model (OpenAI's would count roughly 10-20% fewer on English prose), so
figures say which one counted them; ratios such as the summary buffer's saving barely depend on the choice.
"""

from __future__ import annotations

from functools import cache

from tokenizers import Tokenizer

from activities.minilm import packaged_model_dir

TOKENIZER_NAME = "all-MiniLM-L6-v2 WordPiece"


class TokenCounter:
    name = TOKENIZER_NAME

    def __init__(self) -> None:
        self._tokenizer = Tokenizer.from_file(str(packaged_model_dir() / "tokenizer.json"))
        # Counting, not encoding for the model: no padding, no truncation, no [CLS]/[SEP].
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()

    def count(self, text: str) -> int:
        return len(self._tokenizer.encode(text, add_special_tokens=False).ids)


@cache
def token_counter() -> TokenCounter:
    return TokenCounter()
