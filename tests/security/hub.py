"""Two users, A and B, on a secured database: their rows in every table, and their roles."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from sqlalchemy.engine import URL

from tests.conftest import libpq
from workbench.db.engine import Database
from workbench.db.security import ProvisionedRole


@dataclass(frozen=True)
class Person:
    user_id: str
    marker: str
    """In every row of this user's, in some column: a row showing it to anyone else leaked."""
    role: ProvisionedRole

    def connect(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.role.database_url(), autocommit=True)


@dataclass(frozen=True)
class Hub:
    database: Database
    admin_url: URL
    a: Person
    b: Person

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(libpq(self.admin_url), autocommit=True)


def seed(connection: psycopg.Connection[tuple[object, ...]], user_id: str, marker: str) -> None:
    """One row of this user's in every table that holds user rows; `marker` in each."""
    m, u = marker, user_id
    statements = [
        """INSERT INTO "user" (id, name, email, "emailVerified", "createdAt", "updatedAt")
           VALUES (%(u)s, %(m)s, %(m)s || '@example.com', false, now(), now())""",
        """INSERT INTO session (id, "expiresAt", token, "createdAt", "updatedAt", "userId")
           VALUES (%(m)s || '-ses', now() + interval '1 day', %(m)s || '-tok', now(), now(),
           %(u)s)""",
        """INSERT INTO account (id, "accountId", "providerId", "userId", password, "createdAt",
           "updatedAt") VALUES (%(m)s || '-acc', %(m)s, 'credential', %(u)s, 'hash', now(),
           now())""",
        """INSERT INTO verification (id, identifier, value, "expiresAt")
           VALUES (%(m)s || '-ver', %(m)s, 'v', now())""",
        """INSERT INTO "Scenario" (id, user_id, name, "updatedAt")
           VALUES (%(m)s || '-scn', %(u)s, %(m)s, now())""",
        """INSERT INTO "ScenarioTurn" ("scenarioId", "orderIndex", "turnType", "userText")
           VALUES (%(m)s || '-scn', 0, 'USER', %(m)s)""",
        """INSERT INTO "ScenarioExpectation" ("scenarioId", "turnId", type, value)
           SELECT "scenarioId", id, 'MUST_CONTAIN', %(m)s FROM "ScenarioTurn"
           WHERE "scenarioId" = %(m)s || '-scn'""",
        """INSERT INTO "ScenarioVersion" (id, "scenarioId", version, snapshot)
           VALUES (%(m)s || '-ver', %(m)s || '-scn', 1, jsonb_build_object('m', %(m)s))""",
        """INSERT INTO "ScenarioSuite" (id, user_id, name, "updatedAt")
           VALUES (%(m)s || '-sui', %(u)s, %(m)s, now())""",
        """INSERT INTO "ScenarioSuiteItem" ("suiteId", "scenarioId")
           VALUES (%(m)s || '-sui', %(m)s || '-scn')""",
        """INSERT INTO prompt (id, user_id, name, content, updated_at)
           VALUES (%(m)s || '-pro', %(u)s, %(m)s, %(m)s, now())""",
        """INSERT INTO variable (id, user_id, key, value, updated_at)
           VALUES (%(m)s || '-var', %(u)s, %(m)s, %(m)s, now())""",
        """INSERT INTO user_api_key (id, user_id, provider, key_name, encrypted_key, updated_at)
           VALUES (%(m)s || '-key', %(u)s, 'openai', %(m)s, 'v2:secret', now())""",
        """INSERT INTO workbench.sign_in_failure (email, failed_at)
           VALUES (%(m)s || '@example.com', now())""",
        """INSERT INTO workbench.run (id, user_id, suite_id, suite_name, prompt_id, prompt_name,
           prompt_updated_at, system_text, system_sha256, target, repeats, options, status,
           created_at) VALUES (%(m)s || '-run', %(u)s, %(m)s || '-sui', %(m)s, %(m)s || '-pro',
           %(m)s, now(), %(m)s, 'x', '{}', 1, '{}', 'finished', now())""",
        """INSERT INTO workbench.run_scenario (run_id, position, user_id, scenario_id,
           scenario_name, scenario_version, turns) VALUES (%(m)s || '-run', 0, %(u)s,
           %(m)s || '-scn', %(m)s, 1, '[]')""",
        """INSERT INTO workbench.run_attempt (run_id, user_id, position, scenario_id, repeat,
           status, tries) VALUES (%(m)s || '-run', %(u)s, 0, %(m)s || '-scn', 0, 'passed', 1)""",
        """INSERT INTO workbench.turn_result (attempt_id, run_id, user_id, turn_index,
           message_count, cached) SELECT id, run_id, user_id, 0, 1, false
           FROM workbench.run_attempt WHERE run_id = %(m)s || '-run'""",
        """INSERT INTO workbench.expectation_result (attempt_id, run_id, user_id, turn_index,
           expectation_index, type, status, detail) SELECT id, run_id, user_id, 0, 0,
           'MUST_CONTAIN', 'PASSED', '{}' FROM workbench.run_attempt
           WHERE run_id = %(m)s || '-run'""",
        """INSERT INTO workbench.review_label (user_id, result_id, run_id, label, comment, type,
           judge_status, labelled_by, created_at, updated_at) SELECT user_id, id, run_id, 'pass',
           %(m)s, type, status, user_id, now(), now() FROM workbench.expectation_result
           WHERE run_id = %(m)s || '-run'""",
        """INSERT INTO workbench.review_label_change (user_id, result_id, run_id, label, comment,
           changed_by, changed_at) SELECT user_id, id, run_id, 'pass', %(m)s, user_id, now()
           FROM workbench.expectation_result WHERE run_id = %(m)s || '-run'""",
        """INSERT INTO workbench.response_cache (user_id, key, provider, model, reply,
           reply_model, created_at) VALUES (%(u)s, %(m)s, 'openai', 'm', %(m)s, 'm', now())""",
        """INSERT INTO workbench.run_matrix (id, user_id, suite_id, suite_name, repeats,
           settings, created_at) VALUES (%(m)s || '-mat', %(u)s, %(m)s || '-sui', %(m)s, 1,
           '{}', now())""",
        """INSERT INTO workbench.run_matrix_cell (matrix_id, position, user_id, prompt_id,
           prompt_name, target, run_id) VALUES (%(m)s || '-mat', 0, %(u)s, %(m)s || '-pro',
           %(m)s, '{}', %(m)s || '-run')""",
        """INSERT INTO workbench.scenario_extension (user_id, scenario_id, kind, version,
           document, created_at) VALUES (%(u)s, %(m)s || '-scn', 'tools', 1,
           '{"tools": [], "checks": []}', now())""",
        """INSERT INTO workbench.tool_call (attempt_id, run_id, user_id, turn_index, round,
           call_index, name, arguments, source) SELECT id, run_id, user_id, 1, 1, 0, %(m)s,
           '{}', 'mock' FROM workbench.run_attempt WHERE run_id = %(m)s || '-run'""",
        """INSERT INTO workbench.conversation_result (attempt_id, run_id, user_id, turn_index,
           turns_played, ending, reason, transcript, simulator_prompt_version, simulator_calls)
           SELECT id, run_id, user_id, 2, 1, 'goal_reached', %(m)s,
           jsonb_build_array(jsonb_build_object('role', 'user', 'text', %(m)s::text)),
           'simulator-v1', 1 FROM workbench.run_attempt WHERE run_id = %(m)s || '-run'""",
        # What a hub sign-in leaves: the lock row of the user's link (it names them).
        """INSERT INTO workbench.admin_lock (name) VALUES ('link:jupyterhub:' || %(m)s)""",
    ]
    for statement in statements:
        connection.execute(statement, {"u": u, "m": m})
