from __future__ import annotations

import stat
from pathlib import Path

from sqlalchemy import create_engine

from workbench.crypto.tokens import hash_token
from workbench.db.engine import Database
from workbench.db.url import parse_database_url
from workbench.services.accounts.token_file import forget_token, load_token, save_token, token_file


def database(url: str) -> Database:
    parsed = parse_database_url(url)
    return Database(create_engine(parsed), parsed, "the given URL", local=False)


FIRST = database("postgresql://ada:secret@db.example.com:5432/first")
SECOND = database("postgresql://ada:secret@db.example.com:5432/second")


def test_a_saved_token_is_private_to_the_user(isolated_home: Path) -> None:
    save_token(FIRST, "token-one")
    assert load_token(FIRST) == "token-one"
    assert stat.S_IMODE(token_file().stat().st_mode) == 0o600
    assert token_file().is_relative_to(isolated_home / "config")


def test_tokens_for_two_databases_do_not_clash(isolated_home: Path) -> None:
    save_token(FIRST, "token-one")
    save_token(SECOND, "token-two")
    assert (load_token(FIRST), load_token(SECOND)) == ("token-one", "token-two")


def test_the_file_names_neither_hosts_nor_passwords(isolated_home: Path) -> None:
    save_token(FIRST, "token-one")
    content = token_file().read_text()
    assert "db.example.com" not in content and "secret" not in content


def test_forgetting_drops_only_the_session_it_names(isolated_home: Path) -> None:
    save_token(FIRST, "newer-token")
    forget_token(FIRST, token_hash=hash_token("older-token"))
    assert load_token(FIRST) == "newer-token"
    forget_token(FIRST, token_hash=hash_token("newer-token"))
    assert load_token(FIRST) is None


def test_the_file_goes_when_its_last_token_does(isolated_home: Path) -> None:
    save_token(FIRST, "token-one")
    forget_token(FIRST, token_hash=hash_token("token-one"))
    assert not token_file().exists()


def test_an_unreadable_file_counts_as_nothing_saved(isolated_home: Path) -> None:
    token_file().parent.mkdir(parents=True)
    token_file().write_text("{not json")
    assert load_token(FIRST) is None
    save_token(FIRST, "token-one")
    assert load_token(FIRST) == "token-one"
