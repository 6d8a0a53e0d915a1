"""Fixtures for the account building blocks: users with passwords, and a capturing sender."""

from __future__ import annotations

import pytest

from workbench.db.engine import Database
from workbench.services.accounts.credentials import SignedIn, register
from workbench.services.accounts.verification import Message

PASSWORD = "correct horse battery staple"


class Outbox:
    """A sender that keeps what it is given, so a test can read the token."""

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def __call__(self, message: Message, /) -> None:
        self.messages.append(message)

    @property
    def token(self) -> str:
        return self.messages[-1].token


@pytest.fixture
def outbox() -> Outbox:
    return Outbox()


@pytest.fixture
def ada(db: Database) -> SignedIn:
    """A user signed up with `PASSWORD`, rolled back with the test."""
    return register(db, email="ada@example.com", password=PASSWORD, name="Ada")


@pytest.fixture
def bob(db: Database) -> SignedIn:
    return register(db, email="bob@example.com", password=PASSWORD, name="Bob")


@pytest.fixture
def local_db(db: Database) -> Database:
    """`db` as the embedded server looks (local mode), sharing its rolled-back transaction."""
    local = Database(db.engine, db.url, "the embedded server", local=True)
    local.sessions = local.read_sessions = db.sessions
    return local
