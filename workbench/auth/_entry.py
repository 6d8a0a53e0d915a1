"""Signing in: `connect`, `sign_up`, `sign_in`, `resume` and password reset.

Each opens the database (`url`, else `DATABASE_URL`, else the embedded server) and returns a
`Workbench` handle bound to the user; nothing below this layer is told a user id by a caller.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager

from workbench.auth._jupyterhub import hub_configured, hub_user_name
from workbench.auth._notice import sign_in_notice
from workbench.crypto.secret import Secret
from workbench.crypto.tokens import hash_token
from workbench.db.engine import Database, open_database
from workbench.db.security.identity import has_definer_counts, has_definer_deletes, role_user
from workbench.errors import AuthError
from workbench.handle import SignedInUser, Workbench
from workbench.services.accounts import credentials
from workbench.services.accounts.credentials import SignedIn
from workbench.services.accounts.emails import checked_email
from workbench.services.accounts.external import hub_user, local_email, local_user
from workbench.services.accounts.sessions import find_session
from workbench.services.accounts.token_file import forget_token, load_token, save_token
from workbench.services.accounts.verification import Sender

HOW_TO_SIGN_IN = (
    "Sign in with workbench.sign_in(email, password), or create an account with "
    "workbench.sign_up(email, password, name)."
)


@contextmanager
def _opened(url: str | None, *, handle_keeps_it: bool = True) -> Iterator[Database]:
    """The database for one call. Unless a returned handle keeps it, its connections close at
    once: an engine left to the garbage collector holds a server connection until then."""
    database = open_database(url)
    try:
        yield database
    except BaseException:
        database.engine.dispose()
        raise
    if not handle_keeps_it:
        database.engine.dispose()


def connect(url: str | None = None, *, quiet: bool = False) -> Workbench:
    """Sign in however this environment allows, with no password prompt.

    Prints one line saying who it signed in as, unless it is your local user on the embedded
    database (or `quiet`); `repr(wb)` says it too.

    In order: the workbench user a per-user database role is mapped to (`workbench users
    provision`, the JupyterHub hooks): identity from the role alone, nothing else consulted; the
    session saved for this database by an earlier `sign_in`; the JupyterHub user
    when running under JupyterHub; the local user (named after your OS account) on the embedded
    database. Otherwise `AuthError` says how to sign in.

    >>> wb = workbench.connect()          # doctest: +SKIP
    """
    from workbench.services.runs.study import RunStudy  # not `wb.runs`: a worker needs no more

    with _opened(url) as database:
        handle = _connect(database)
        # "The next time the user connects", a run whose kernel died is marked interrupted.
        RunStudy(database, handle.user.id).mark_interrupted()
    # Of connect()'s paths only resuming a saved session gives the handle a session row.
    resumed = handle._session is not None
    notice = sign_in_notice(handle, local_email=local_email(_os_user()), resumed=resumed)
    if notice is not None and not quiet:
        print(notice)
    return handle


def _connect(database: Database) -> Workbench:
    mapped = None if database.local else role_user(database)
    if mapped is not None:
        database.definer_counts = has_definer_counts(database)
        database.definer_deletes = has_definer_deletes(database)
        return Workbench(database, SignedInUser(*mapped))
    refused = ""
    saved = load_token(database)
    if saved is not None:
        try:
            return _resume(database, saved, saved=True)
        except AuthError as error:
            refused = f" (The saved session was refused: {error})"
    if hub_configured():
        return Workbench(database, hub_user(database, hub_name=hub_user_name()))
    if database.local:
        return Workbench(database, local_user(database, os_user=_os_user()))
    raise AuthError(f"Not signed in to {database.describe()}. {HOW_TO_SIGN_IN}{refused}")


def sign_up(
    email: str,
    password: str | Secret,
    name: str,
    *,
    url: str | None = None,
    remember: bool | None = None,
) -> Workbench:
    """Create an account (usable in the web app too) and sign in to it.

    With `remember` the session is saved so `workbench.connect()` resumes it in new kernels.
    By default (`None`) it is saved on a shared server but not on the embedded database, where
    `connect()` keeps giving you your local user (whose scenarios would otherwise seem gone).

    >>> wb = workbench.sign_up("ada@example.com", "correct horse", "Ada")   # doctest: +SKIP
    """
    password = Secret.wrap(password)  # first: tracebacks show Secret('***') (crypto.secret)
    with _opened(url) as database:
        signed_up = credentials.register(database, email=email, password=password, name=name)
        return _handle(database, signed_up, not database.local if remember is None else remember)


def sign_in(
    email: str, password: str | Secret, *, url: str | None = None, remember: bool = True
) -> Workbench:
    """Sign in with the email and password you use in the web app; opens a 7-day session.

    With `remember` the session is saved (mode 0600, in your config directory) so
    `workbench.connect()` in a new kernel resumes it without the password.

    >>> wb = workbench.sign_in("ada@example.com", "correct horse")   # doctest: +SKIP
    """
    password = Secret.wrap(password)  # first: tracebacks show Secret('***') (crypto.secret)
    # With the arguments swapped `email` is the password: masked until it checks out.
    address = Secret.wrap(email)
    email = "<being checked>"
    email = checked_email(address)
    with _opened(url) as database:
        signed_in = credentials.sign_in_with_password(database, email=email, password=password)
        return _handle(database, signed_in, remember)


def resume(*, url: str | None = None, token: str | None = None) -> Workbench:
    """Resume a session: the one saved for this database, or the one `token` opens.

    >>> wb = workbench.resume()           # doctest: +SKIP
    """
    with _opened(url) as database:
        if token is not None:
            return _resume(database, token, saved=False)
        saved = load_token(database)
        if saved is None:
            raise AuthError(f"No saved session for {database.describe()}. {HOW_TO_SIGN_IN}")
        return _resume(database, saved, saved=True)


def request_password_reset(
    email: str, *, url: str | None = None, sender: Sender | None = None
) -> None:
    """Send a password reset token (valid 1 hour) to the owner of `email`.

    `sender` delivers it; by default it is printed, which only the embedded database allows.
    Nothing is sent, and nothing said, for an address without an account.
    """
    with _opened(url, handle_keeps_it=False) as database:
        credentials.request_password_reset(database, email=email, sender=sender)


def reset_password(token: str, new_password: str | Secret, *, url: str | None = None) -> None:
    """Set a new password with a reset token (once); every session of that user is ended.

    >>> workbench.reset_password("Xq3...", "a new long password")   # doctest: +SKIP
    """
    new_password = Secret.wrap(new_password)  # first (crypto.secret)
    with _opened(url, handle_keeps_it=False) as database:
        credentials.reset_password(database, token=token, new_password=new_password)


def _handle(database: Database, signed_in: SignedIn, remember: bool) -> Workbench:
    if remember:
        save_token(database, signed_in.issued.token)
    return Workbench(database, signed_in.user, signed_in.issued.session)


def _resume(database: Database, token: str, *, saved: bool) -> Workbench:
    try:
        user, session = find_session(database, token)
    except AuthError:
        if saved:  # a refused token never works again: stop offering it
            forget_token(database, token_hash=hash_token(token))
        raise
    return Workbench(database, user, session)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no LOGNAME/USER variable and no passwd entry (containers)
        return "user"
