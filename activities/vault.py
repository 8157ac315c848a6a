"""Envelope encryption for what candidates upload: AES-256-GCM under a per-document data key, the data key itself
wrapped (AES-256-GCM again) by a master key that never reaches the database.

Every sealed value is bound to its document and purpose (GCM associated data), so a ciphertext copied onto
another row or field does not open. A wrapped key names its master key by fingerprint: rotating the master key
re-wraps the small data keys and leaves the documents' ciphertexts as they are.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from pathlib import Path

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from stack.settings import Settings

NONCE_BYTES = 12
KEY_BYTES = 32


class VaultError(ValueError):
    """A sealed value that does not open: wrong key, wrong document, or tampered."""


class WrappedKey(msgspec.Struct, frozen=True):
    master: str  # fingerprint of the master key that wrapped it
    sealed: bytes  # nonce + ciphertext + tag


def fingerprint(master_key: bytes) -> str:
    return hashlib.sha256(b"mocki-master-key:" + master_key).hexdigest()[:16]


def _seal(key: bytes, plaintext: bytes, context: bytes) -> bytes:
    nonce = secrets.token_bytes(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, context)


def _open(key: bytes, sealed: bytes, context: bytes) -> bytes:
    try:
        return AESGCM(key).decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], context)
    except (InvalidTag, ValueError) as exc:
        raise VaultError("this value does not open with this key and context") from exc


class Vault:
    """Seals and opens document data. `load_keys` gives the master keys, the current one first, then earlier ones
    (for rotation); they are read again when a key names a master key not yet known (rotated by another process)."""

    def __init__(self, load_keys: Callable[[], list[bytes]]) -> None:
        self._load_keys = load_keys
        self._load()

    def _load(self) -> None:
        keys = self._load_keys()
        if not keys or any(len(key) != KEY_BYTES for key in keys):
            raise ValueError("a vault needs at least one 32-byte master key")
        self._current = keys[0]
        self._by_fingerprint = {fingerprint(key): key for key in keys}

    @property
    def current(self) -> str:
        return fingerprint(self._current)

    def new_data_key(self, document_id: str) -> tuple[bytes, WrappedKey]:
        data_key = AESGCM.generate_key(bit_length=256)
        return data_key, self.wrap(data_key, document_id)

    def wrap(self, data_key: bytes, document_id: str) -> WrappedKey:
        return WrappedKey(master=self.current, sealed=_seal(self._current, data_key, _context(document_id, "key")))

    def unwrap(self, wrapped: WrappedKey, document_id: str) -> bytes:
        if wrapped.master not in self._by_fingerprint:
            self._load()
        master = self._by_fingerprint.get(wrapped.master)
        if master is None:
            raise VaultError(f"the master key {wrapped.master} that wrapped this document's key is not configured")
        return _open(master, wrapped.sealed, _context(document_id, "key"))

    def rewrap(self, wrapped: WrappedKey, document_id: str) -> WrappedKey:
        """The same data key, wrapped by the current master key."""
        return wrapped if wrapped.master == self.current else self.wrap(self.unwrap(wrapped, document_id), document_id)


def seal(data_key: bytes, plaintext: bytes, document_id: str, purpose: str) -> bytes:
    return _seal(data_key, plaintext, _context(document_id, purpose))


def open_sealed(data_key: bytes, sealed: bytes, document_id: str, purpose: str) -> bytes:
    return _open(data_key, sealed, _context(document_id, purpose))


def _context(document_id: str, purpose: str) -> bytes:
    return f"mocki:{document_id}:{purpose}".encode()


def encode_wrapped(wrapped: WrappedKey) -> bytes:
    return msgspec.json.encode(wrapped)


def decode_wrapped(raw: bytes) -> WrappedKey:
    return msgspec.json.decode(raw, type=WrappedKey)


def master_keys_of(settings: Settings) -> list[bytes]:
    """ENCRYPTION_MASTER_KEY (+ ENCRYPTION_PREVIOUS_MASTER_KEYS) when set; else keys kept (0600) in the data
    folder for the embedded stack, the current one first."""
    if settings.encryption_master_key:
        return [settings.encryption_master_key, *settings.encryption_previous_master_keys]
    path = _key_file(settings.data_dir)
    try:
        with path.open("x") as handle:  # exclusive create: processes starting at once agree on one key
            path.chmod(0o600)
            handle.write(base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode() + "\n")
    except FileExistsError:
        pass
    return [base64.b64decode(line) for line in path.read_text().split()]


def add_master_key(data_dir: Path) -> None:
    """A new current master key in the data folder; the earlier ones stay, to unwrap until everything is
    re-wrapped."""
    path = _key_file(data_dir)
    earlier = path.read_text() if path.exists() else ""
    fresh = base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()
    replacement = path.with_suffix(".new")
    replacement.write_text(fresh + "\n" + earlier)
    replacement.chmod(0o600)
    replacement.replace(path)


def _key_file(data_dir: Path) -> Path:
    data_dir.mkdir(parents=True, exist_ok=True)
    return data_dir / "master_keys"
