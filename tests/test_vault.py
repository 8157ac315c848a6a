"""Envelope encryption of documents, and rotating the master key without touching the documents."""

from __future__ import annotations

import secrets
import uuid

import httpx
import pytest

from activities.vault import Vault, VaultError, decode_wrapped, fingerprint, master_keys_of, open_sealed, seal
from schema.tables import Document, MailMessage
from stack.sample_documents import RESUME, pdf
from stack.sample_mail import mbox
from stack.services import Endpoints
from stack.settings import Settings
from tests.conftest import rotate_master_key, sign_up
from tests.test_applications import import_mail, synced
from tests.test_documents import ready, upload


def test_a_sealed_value_opens_only_with_its_key_its_document_and_its_purpose() -> None:
    old, new = secrets.token_bytes(32), secrets.token_bytes(32)
    vault = Vault(lambda: [old])
    data_key, wrapped = vault.new_data_key("doc-1")
    sealed = seal(data_key, b"Ada Lovelace", "doc-1", "text")
    assert b"Ada" not in sealed and open_sealed(data_key, sealed, "doc-1", "text") == b"Ada Lovelace"
    for document, purpose in (("doc-2", "text"), ("doc-1", "structure")):  # moved to another row or field
        with pytest.raises(VaultError):
            open_sealed(data_key, sealed, document, purpose)
    with pytest.raises(VaultError):
        open_sealed(data_key, sealed[:-1] + bytes([sealed[-1] ^ 1]), "doc-1", "text")  # tampered
    with pytest.raises(VaultError):
        vault.unwrap(wrapped, "doc-2")

    rotated = Vault(lambda: [new, old])
    rewrapped = rotated.rewrap(wrapped, "doc-1")
    assert rewrapped.master == fingerprint(new) != wrapped.master
    assert rotated.unwrap(rewrapped, "doc-1") == data_key  # the documents' ciphertexts stay as they are
    with pytest.raises(VaultError, match="not configured"):
        Vault(lambda: [secrets.token_bytes(32)]).unwrap(wrapped, "doc-1")


async def test_rotating_the_master_key_rewraps_every_document_and_mail_key_and_they_still_open(
    api: httpx.AsyncClient, settings: Settings, endpoints: Endpoints
) -> None:
    auth, _ = await sign_up(api)
    accepted = await upload(api, auth, pdf(RESUME))
    assert accepted.status_code == 202, accepted.text
    document_id = uuid.UUID(accepted.json()["document_id"])
    before = await ready(api, auth, str(document_id))
    assert (await import_mail(api, auth, mbox("d002"))).status_code == 202
    await synced(api, auth)
    row = await Document.select(Document.wrapped_key, Document.original_sealed).where(Document.id == document_id)
    owner = (await Document.select(Document.owner).where(Document.id == document_id).first())["owner"]  # type: ignore[index]
    mail = MailMessage.select(MailMessage.id, MailMessage.wrapped_key, MailMessage.sealed)
    (message_before,) = await mail.where(MailMessage.owner == owner)
    rotated = rotate_master_key(settings, endpoints)
    assert "document keys re-wrapped" in rotated and "mail message keys re-wrapped" in rotated, rotated
    after = await Document.select(Document.wrapped_key, Document.original_sealed).where(Document.id == document_id)
    old, new = decode_wrapped(row[0]["wrapped_key"]), decode_wrapped(after[0]["wrapped_key"])
    assert new.master != old.master and new.master in rotated
    assert after[0]["original_sealed"] == row[0]["original_sealed"]  # the document itself was not re-encrypted
    # The imported email's key too: under the new master key, and the email still opens with it.
    (message_after,) = await MailMessage.select(MailMessage.wrapped_key, MailMessage.sealed).where(
        MailMessage.id == message_before["id"]
    )
    wrapped_message = decode_wrapped(message_after["wrapped_key"])
    assert wrapped_message.master == new.master and message_after["sealed"] == message_before["sealed"]
    message_key = Vault(lambda: master_keys_of(settings)).unwrap(wrapped_message, str(message_before["id"]))
    assert b"Lumen Health" in open_sealed(message_key, message_after["sealed"], str(message_before["id"]), "message")
    # The running API meets a key wrapped by a master key it did not know, reads the keys again, and opens it.
    assert (await api.get(f"/documents/{document_id}", headers=auth)).json() == before
