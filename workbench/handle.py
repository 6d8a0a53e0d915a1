"""`Workbench`: what a signed-in user holds. Every service is reached through it.

Each service is built on first use and bound to this handle's user, so no public function
anywhere takes a user id from its caller.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

from workbench.db.engine import Database
from workbench.errors import AuthError
from workbench.services.identity import SignedInUser as SignedInUser  # re-exported
from workbench.timeutil import utcnow

if TYPE_CHECKING:
    from workbench.services.accounts import AccountService
    from workbench.services.accounts.sessions import ActiveSession
    from workbench.services.keys.service import ApiKeyService
    from workbench.services.prompts.service import PromptService
    from workbench.services.reviews import ReviewService
    from workbench.services.runs.service import RunService
    from workbench.services.scenarios import ScenarioService
    from workbench.services.scenarios.types import ImportResult
    from workbench.services.suites.service import SuiteService
    from workbench.services.variables import VariableService
    from workbench.services.workspace.io import WorkspaceImport
    from workbench.widgets.studio import Studio


# How stale a handle's knowledge of its session row may get: a sign-out elsewhere or a password
# reset stops this handle within this many seconds, without a round trip on every action.
SESSION_RECHECK_SECONDS = 30.0

# What a signed-out handle still answers: who it was, where, and whether it is signed in.
_AVAILABLE_SIGNED_OUT = frozenset({"user", "database", "signed_in", "sign_out"})


class Workbench:
    """A signed-in user's handle on the workbench.

    >>> wb = workbench.connect()          # doctest: +SKIP
    >>> wb.scenarios.list()               # doctest: +SKIP
    """

    def __init__(
        self, database: Database, user: SignedInUser, session: ActiveSession | None = None
    ) -> None:
        self._database = database
        self._user = user
        # None for local and JupyterHub sign-ins: no session row, nothing to resume.
        self._session = session
        self._signed_out = False
        self._session_checked_at = time.monotonic()

    if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any attribute name

        def __getattribute__(self, name):
            # Services are properties added across the package; guarding attribute access here
            # covers every one, so a signed-out or expired handle reaches nothing.
            if name[0] != "_" and name not in _AVAILABLE_SIGNED_OUT:
                object.__getattribute__(self, "_require_signed_in")()
            return object.__getattribute__(self, name)

    def _require_signed_in(self) -> None:
        refusal = self._refusal()
        if refusal is not None:
            raise refusal

    def _require_active(self) -> None:
        """Before every service action: signed in, and the session row still there."""
        self._require_signed_in()
        session = self._session
        if session is None or time.monotonic() - self._session_checked_at < SESSION_RECHECK_SECONDS:
            return
        from workbench.services.accounts.sessions import SESSION_GONE, session_is_live

        if not session_is_live(self._database, session.id):
            self._signed_out = True
            raise AuthError(SESSION_GONE)
        self._session_checked_at = time.monotonic()

    def _refusal(self) -> AuthError | None:
        if self._signed_out:
            return AuthError(
                "This handle is signed out. Get a new one with workbench.connect() or "
                "workbench.sign_in(email, password)."
            )
        if self._session is not None and self._session.expires_at <= utcnow():
            from workbench.services.accounts.sessions import expired_error

            return expired_error(self._session.expires_at)
        return None

    @property
    def user(self) -> SignedInUser:
        return self._user

    @property
    def database(self) -> Database:
        return self._database

    @property
    def signed_in(self) -> bool:
        """False once `sign_out()` ran, the account was deleted, or the session expired."""
        return self._refusal() is None

    def sign_out(self) -> None:
        """End this handle's session: its row, and the saved token if it is this session's.

        >>> wb.sign_out()                     # doctest: +SKIP
        """
        if self._session is not None and not self._signed_out:
            from workbench.services.accounts.sessions import end_session
            from workbench.services.accounts.token_file import forget_token

            end_session(self._database, self._session.id)
            forget_token(self._database, token_hash=self._session.token_hash)
        self._signed_out = True

    @cached_property
    def account(self) -> AccountService:
        """Your account: change password, verify your email, delete the account."""
        from workbench.services.accounts import AccountService

        # Deleting the account took the session row with it; sign_out drops the saved token.
        return AccountService(
            self._database, self._user.id, on_deleted=self.sign_out, guard=self._require_active
        )

    @cached_property
    def api_keys(self) -> ApiKeyService:
        """Your provider API keys: set, list, deactivate, delete (never shown again)."""
        from workbench.services.keys.service import ApiKeyService

        return ApiKeyService(self._database, self._user.id, guard=self._require_active)

    @cached_property
    def scenarios(self) -> ScenarioService:
        """Your scenarios: create, update, list, publish, version history, duplicate."""
        from workbench.services.scenarios import ScenarioService

        return ScenarioService(self._database, self._user.id, guard=self._require_active)

    def export_scenarios(
        self,
        *,
        scenario_ids: Sequence[str] | None = None,
        suite_ids: Sequence[str] | None = None,
        format: str | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> str:
        """Your scenarios and suites as YAML or JSON text (all of them unless ids are given).

        >>> wb.export_scenarios(path="scenarios.yaml")      # doctest: +SKIP
        """
        from workbench.services.scenarios.io import ScenarioIO

        return ScenarioIO(
            self._database, self._user.id, guard=self._require_active
        ).export_scenarios(scenario_ids=scenario_ids, suite_ids=suite_ids, format=format, path=path)

    def import_scenarios(
        self,
        source: str | os.PathLike[str] | Mapping[str, Any],
        *,
        format: str | None = None,
        on_conflict: Literal["error", "skip", "rename"] = "error",
    ) -> ImportResult:
        """Import scenarios and suites from YAML/JSON text, a file path or a dict: all or nothing.

        >>> wb.import_scenarios("scenarios.yaml", on_conflict="rename")   # doctest: +SKIP
        """
        from workbench.services.scenarios.io import ScenarioIO

        return ScenarioIO(
            self._database, self._user.id, guard=self._require_active
        ).import_scenarios(source, format=format, on_conflict=on_conflict)

    def export_workspace(
        self,
        *,
        format: str | None = None,
        path: str | os.PathLike[str] | None = None,
        include_history: bool = False,
    ) -> str:
        """Everything you authored (scenarios, suites, prompts, variables; never API keys) as
        YAML or JSON text, also written to `path`. Lossless: import it to get it all back.
        `include_history` adds every saved version of every scenario.

        >>> wb.export_workspace(path="workspace.yaml")      # doctest: +SKIP
        """
        from workbench.services.workspace.io import WorkspaceIO

        io = WorkspaceIO(self._database, self._user.id, guard=self._require_active)
        return io.export_workspace(format=format, path=path, include_history=include_history)

    def import_workspace(
        self,
        source: str | os.PathLike[str] | Mapping[str, Any],
        *,
        format: str | None = None,
        on_conflict: Literal["error", "skip", "rename"] = "error",
    ) -> WorkspaceImport:
        """Import a workspace export (text, a file path or a dict): all or nothing, every
        problem reported with its path.

        >>> wb.import_workspace("workspace.yaml", on_conflict="skip")   # doctest: +SKIP
        """
        from workbench.services.workspace.io import WorkspaceIO

        io = WorkspaceIO(self._database, self._user.id, guard=self._require_active)
        return io.import_workspace(source, format=format, on_conflict=on_conflict)

    @cached_property
    def suites(self) -> SuiteService:
        """Your suites: ordered sets of scenarios to run together."""
        from workbench.services.suites.service import SuiteService

        return SuiteService(self._database, self._user.id, guard=self._require_active)

    @cached_property
    def prompts(self) -> PromptService:
        """Your prompts: templates with `{{name}}` placeholders, rendered with your variables."""
        from workbench.services.prompts.service import PromptService

        return PromptService(self._database, self._user.id, guard=self._require_active)

    @cached_property
    def runs(self) -> RunService:
        """Your runs: play a suite against a model, then study every attempt."""
        from workbench.services.runs.service import RunService

        return RunService(self._database, self._user.id, guard=self._require_active)

    @cached_property
    def reviews(self) -> ReviewService:
        """Your labels on run results: review queues, labels, the judge's agreement with you."""
        from workbench.services.reviews import ReviewService

        return ReviewService(self._database, self._user.id, guard=self._require_active)

    @cached_property
    def variables(self) -> VariableService:
        """Your variables: the values that fill prompt placeholders."""
        from workbench.services.variables import VariableService

        return VariableService(self._database, self._user.id, guard=self._require_active)

    def studio(self, *, extra_tabs: Mapping[str, Any] | None = None) -> Studio:
        """Every editor in one widget: Scenarios, Suites, Prompts, Variables, API keys, Runs.

        >>> wb.studio()                       # doctest: +SKIP
        """
        from workbench.widgets.studio import studio

        return studio(self, extra_tabs=extra_tabs)

    def __repr__(self) -> str:
        # The session token is never held here, so it cannot show up in a repr.
        state = "" if self.signed_in else ", signed out"
        return (
            f"Workbench(user={self._user.email!r}, database={self._database.describe()!r}{state})"
        )
