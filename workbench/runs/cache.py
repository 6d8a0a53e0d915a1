"""The response cache: a reply already paid for is served again instead of asking the model.

Opt-in per run (`wb.runs.start(..., cache=True)`). The key is the SHA-256 of a canonical JSON
document holding everything that changes the answer:

- the provider, its `base_url` (another server may serve another model under the same name) and
  the model name;
- every request parameter of the target (temperature, max_tokens, top_p, seed, stop, ...), the
  per-call temperature override and the structured-output schema (the judge's);
- for the offline provider, its rules (they are its "weights");
- the messages, role and content, in order;
- when the call samples (temperature > 0, or unset: the providers' defaults are 1) and the run
  has repeats > 1, the repeat index, so each repeat has its own entry and repeats are real
  samples rather than copies of the first (the first repeat, stored as 0, shares the entry of a
  one-repeat run).

Limits that never change the answer (timeout, retries, concurrency, rpm, tpm) are left out, so
changing them keeps the cache warm. Entries older than the TTL (14 days by default) are not used.
Entries are the user's own (`user_id` leads the primary key); a hit makes no request, costs
nothing (`cost_usd` 0) and comes back with `Completion.cached = True`.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import psycopg

from workbench.db.engine import Database
from workbench.db.security.deletes import definer_delete_sql
from workbench.errors import ValidationError
from workbench.runs.providers.base import Completion, Message
from workbench.runs.providers.targets import Target
from workbench.timeutil import utcnow

Connection = psycopg.Connection[Any]
DEFAULT_TTL = timedelta(days=14)
KEY_VERSION = 1  # bump when the key document changes: old entries then simply miss


def samples(target: Target, temperature: float | None) -> bool:
    """True when two identical calls may answer differently (sampling is on)."""
    if target.provider == "offline":
        return False  # a pure function of the messages, whatever the temperature
    effective = temperature if temperature is not None else target.params.get("temperature")
    return effective is None or float(effective) > 0


def cache_key(
    target: Target,
    messages: Sequence[Message],
    *,
    json_schema: Mapping[str, Any] | None = None,
    temperature: float | None = None,
    repeat: int | None = None,
) -> str:
    """The hex SHA-256 naming one request's answer; `repeat` only counts when sampling."""
    document: dict[str, Any] = {
        "v": KEY_VERSION,
        "provider": target.provider,
        "base_url": target.base_url,
        "model": target.model,
        "params": dict(target.params),
        "temperature": temperature,
        "json_schema": json_schema,
        "messages": [[m.role, m.content] for m in messages],
    }
    if target.provider == "offline":
        document["offline"] = target.settings()["offline"]
        document["judge_score"] = target.judge_score
    # Repeat 0 keys like a single-repeat run, so a repeats=1 run warms a later repeats=3 one.
    if repeat and samples(target, temperature):
        document["repeat"] = repeat
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def ttl_of(ttl: timedelta | float | int | None) -> timedelta:
    """A TTL given as a timedelta or a number of days; at least a second."""
    if ttl is None:
        return DEFAULT_TTL
    value = ttl if isinstance(ttl, timedelta) else None
    if value is None and isinstance(ttl, int | float) and not isinstance(ttl, bool):
        # Bounded before timedelta sees it: nan is a ValueError there, 1e300 an OverflowError.
        days = float(ttl) if abs(ttl) < 1e6 else math.nan
        value = timedelta(days=days) if math.isfinite(days) else None
    if value is None or value < timedelta(seconds=1) or value > timedelta(days=3650):
        raise ValidationError(
            f"cache_ttl must be a timedelta or a number of days from 1 second to 10 years, "
            f"got {str(ttl)[:50]!r}"
        )
    return value


_GET = (
    "SELECT key, reply, reply_model, prompt_tokens, completion_tokens "
    "FROM workbench.response_cache "
    "WHERE user_id = %s AND key = ANY(%s) AND created_at > %s"
)
_PUT = (
    "INSERT INTO workbench.response_cache (user_id, key, provider, model, reply, reply_model, "
    "prompt_tokens, completion_tokens, cost_usd, created_at) "
    "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (user_id, key) DO UPDATE SET "
    "reply = EXCLUDED.reply, reply_model = EXCLUDED.reply_model, "
    "prompt_tokens = EXCLUDED.prompt_tokens, completion_tokens = EXCLUDED.completion_tokens, "
    "cost_usd = EXCLUDED.cost_usd, created_at = EXCLUDED.created_at"
)


def lookup_many(
    connection: Connection, *, user_id: str, keys: Sequence[str], ttl: timedelta
) -> dict[str, Completion]:
    """The live entries among `keys`, as cached completions (no cost: nothing was paid)."""
    oldest = (utcnow() - ttl).replace(tzinfo=None)
    rows = connection.execute(_GET, (user_id, list(keys), oldest)).fetchall()
    return {
        key: Completion(reply, model, 0.0, prompt_tokens, completion_tokens, 0.0, cached=True)
        for key, reply, model, prompt_tokens, completion_tokens in rows
    }


def store(
    connection: Connection, *, user_id: str, key: str, target: Target, completion: Completion
) -> None:
    now = utcnow().replace(tzinfo=None)
    values = (
        *(user_id, key, target.provider, target.model, completion.text),
        *(completion.model, completion.prompt_tokens, completion.completion_tokens),
        *(completion.cost_usd, now),
    )
    connection.execute(_PUT, values)


@dataclass(frozen=True, slots=True)
class ResponseCache:
    """One user's entries, read and written on a `Database` directly (outside a run)."""

    database: Database
    user_id: str
    ttl: timedelta = DEFAULT_TTL

    def get(self, key: str) -> Completion | None:
        with _driver(self.database, write=False) as connection:
            found = lookup_many(connection, user_id=self.user_id, keys=[key], ttl=self.ttl)
        return found.get(key)

    def put(self, key: str, target: Target, completion: Completion) -> None:
        with _driver(self.database, write=True) as connection:
            store(connection, user_id=self.user_id, key=key, target=target, completion=completion)

    def clear(self, *, older_than: timedelta | None = None) -> int:
        """Delete this user's entries (only those older than `older_than` if given)."""
        where = "user_id = %s"
        params: tuple[Any, ...] = (self.user_id,)
        if older_than is not None:
            where += " AND created_at <= %s"
            params += ((utcnow() - older_than).replace(tzinfo=None),)
        sql = f"DELETE FROM workbench.response_cache WHERE {where}"
        if self.database.definer_deletes:  # a per-user role holds no DELETE privilege
            sql = definer_delete_sql('"workbench"."response_cache"', where)
        with _driver(self.database, write=True) as connection:
            return connection.execute(sql, params).rowcount


@contextmanager
def _driver(database: Database, *, write: bool) -> Iterator[Connection]:
    opened = database.transaction() if write else database.single_statement_read()
    with opened as session:
        driver = session.connection().connection.driver_connection
        assert isinstance(driver, psycopg.Connection)
        yield driver
