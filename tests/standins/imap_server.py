"""A local IMAP4rev1 server stand-in (plain text, loopback only) for driving the standard library's imaplib.

It speaks what a read-only sync uses: CAPABILITY, NOOP, LOGIN, SELECT/EXAMINE (with UIDVALIDITY and UIDNEXT),
UID SEARCH (ALL, SINCE date, UID range), UID FETCH (UID, RFC822.SIZE, BODY.PEEK[] whole or partial, sent as
literals) and LOGOUT. Accounts hold folders of messages with UIDs that only grow; a folder can be renumbered (a new
UIDVALIDITY), a password changed, the connection dropped at a chosen command, and every command is counted.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import shlex
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from stack.supervisor import free_port


@dataclass
class StoredMessage:
    uid: int
    raw: bytes
    received: dt.datetime


@dataclass
class Folder:
    uidvalidity: int = 1
    next_uid: int = 1
    messages: list[StoredMessage] = field(default_factory=list)

    def renumber(self) -> None:
        """What a server does after rebuilding the folder: new UIDVALIDITY, every message a new UID."""
        self.uidvalidity += 1
        for message in self.messages:
            message.uid, self.next_uid = self.next_uid, self.next_uid + 1


@dataclass
class Account:
    password: str
    folders: dict[str, Folder] = field(default_factory=lambda: {"INBOX": Folder()})

    def add(self, raw: bytes, folder: str = "INBOX", received: dt.datetime | None = None) -> int:
        box = self.folders.setdefault(folder, Folder())
        uid, box.next_uid = box.next_uid, box.next_uid + 1
        box.messages.append(StoredMessage(uid, raw, received or dt.datetime.now(dt.UTC)))
        return uid


@dataclass
class ImapStandin:
    accounts: dict[str, Account] = field(default_factory=dict)
    commands: Counter[str] = field(default_factory=Counter)
    drop_on: str | None = None  # a command ("EXAMINE") on which the server drops the connection without answering


class _Session:
    def __init__(self, server: ImapStandin, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.server, self.reader, self.writer = server, reader, writer
        self.account: Account | None = None
        self.folder: Folder | None = None

    def send(self, line: str | bytes) -> None:
        self.writer.write((line.encode() if isinstance(line, str) else line) + b"\r\n")

    async def run(self) -> None:
        self.send("* OK [CAPABILITY IMAP4rev1] mocki IMAP stand-in ready")
        while line := await self.reader.readline():
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            command, _, arguments = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                command, _, arguments = arguments.partition(" ")
                command = f"UID {command.upper()}"
            self.server.commands[command] += 1
            if command == self.server.drop_on:
                break
            if command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                await self.writer.drain()
                break
            self.answer(tag, command, arguments)
            await self.writer.drain()
        self.writer.close()

    def answer(self, tag: str, command: str, arguments: str) -> None:  # noqa: PLR0911 - one branch per command
        if command == "CAPABILITY":
            self.send("* CAPABILITY IMAP4rev1")
            return self.send(f"{tag} OK CAPABILITY completed")
        if command == "NOOP":
            return self.send(f"{tag} OK NOOP completed")
        if command == "LOGIN":
            user, password = shlex.split(arguments)
            account = self.server.accounts.get(user)
            if account is None or account.password != password:
                return self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
            self.account = account
            return self.send(f"{tag} OK LOGIN completed")
        if self.account is None:
            return self.send(f"{tag} BAD log in first")
        if command in ("SELECT", "EXAMINE"):
            self.folder = self.account.folders.get(shlex.split(arguments)[0])
            if self.folder is None:
                return self.send(f"{tag} NO [NONEXISTENT] no such folder")
            self.send(f"* {len(self.folder.messages)} EXISTS")
            self.send("* 0 RECENT")
            self.send(f"* OK [UIDVALIDITY {self.folder.uidvalidity}] UIDs valid")
            self.send(f"* OK [UIDNEXT {self.folder.next_uid}] predicted next UID")
            return self.send(f"{tag} OK [READ-ONLY] {command} completed")
        if self.folder is None:
            return self.send(f"{tag} BAD select a folder first")
        if command == "UID SEARCH":
            found = self.search(arguments)
            if found is None:
                return self.send(f"{tag} BAD this stand-in does not understand {arguments!r}")
            self.send("* SEARCH" + "".join(f" {message.uid}" for message in found))
            return self.send(f"{tag} OK SEARCH completed")
        if command == "UID FETCH":
            return self.fetch(tag, arguments)
        return self.send(f"{tag} BAD unknown command {command}")

    def search(self, criteria: str) -> list[StoredMessage] | None:
        assert self.folder is not None
        messages = self.folder.messages
        if criteria == "ALL":
            return messages
        if match := re.fullmatch(r"SINCE (\d{2}-\w{3}-\d{4})", criteria):
            since = dt.datetime.strptime(match.group(1), "%d-%b-%Y").replace(tzinfo=dt.UTC)
            return [message for message in messages if message.received >= since]
        if match := re.fullmatch(r"UID (\d+):\*", criteria):
            low = int(match.group(1))
            newer = [message for message in messages if message.uid >= low]
            return newer or messages[-1:]  # as RFC 3501 says: "n:*" always includes the highest
        return None

    def fetch(self, tag: str, arguments: str) -> None:
        assert self.folder is not None
        wanted, _, items = arguments.partition(" ")
        uids = {int(uid) for uid in wanted.split(",")}
        for number, message in enumerate(self.folder.messages, start=1):
            if message.uid not in uids:
                continue
            if "RFC822.SIZE" in items:
                self.send(f"* {number} FETCH (UID {message.uid} RFC822.SIZE {len(message.raw)})")
            elif match := re.search(r"BODY\.PEEK\[\](?:<0\.(\d+)>)?", items):
                body = message.raw[: int(match.group(1))] if match.group(1) else message.raw
                name = "BODY[]<0>" if match.group(1) else "BODY[]"
                self.send(
                    f"* {number} FETCH (UID {message.uid} {name} {{{len(body)}}}".encode() + b"\r\n" + body + b")"
                )
        self.send(f"{tag} OK FETCH completed")


@asynccontextmanager
async def running(server: ImapStandin) -> AsyncIterator[int]:
    """Serve on a free loopback port; yields the port."""
    port = free_port()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await _Session(server, reader, writer).run()

    listener = await asyncio.start_server(serve, "127.0.0.1", port)
    try:
        yield port
    finally:
        listener.close()
        await listener.wait_closed()
