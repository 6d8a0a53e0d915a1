"""`workbench users` and `workbench db secure`: per-user database roles for a shared hub.

workbench db secure                      row-level security, grants, the role mapping (idempotent)
workbench users provision EMAIL|ID       create the user's role, or give it a fresh password
workbench users lock EMAIL|ID            refuse logins, cut off and end the role's sessions
workbench users revoke EMAIL|ID          lock, unmap and drop the user's role

All need an administrative DATABASE_URL: the tables' owner, a superuser or (as on Neon, RDS,
Cloud SQL) a `LOGIN CREATEROLE` role. The password is printed only with `--print-url`, on
stdout, and nowhere else.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from workbench.errors import NotFound, ValidationError

# SQLAlchemy and the engine are imported by the commands that use them: the parser is built for
# every command, `workbench worker` too, whose start-up is paid per process (issue 24).
if TYPE_CHECKING:
    from workbench.db.engine import Database


def add_db_secure_command(db_commands: argparse._SubParsersAction[Any]) -> None:
    """Register `workbench db secure` on the `db` command's actions."""
    secure = db_commands.add_parser(
        "secure", help="row-level security and per-user role grants (after every upgrade)"
    )
    secure.set_defaults(command=db_secure)


def add_users_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `workbench users ...` on the top-level parser's subcommands."""
    users = subparsers.add_parser("users", help="per-user database roles: provision, revoke")
    actions = users.add_subparsers(metavar="ACTION", required=True)
    provision = actions.add_parser(
        "provision", help="create the user's database role or rotate its password"
    )
    provision.add_argument("user", metavar="EMAIL|ID")
    provision.add_argument(
        "--print-url", action="store_true", help="print the role's DATABASE_URL (with password)"
    )
    provision.set_defaults(command=users_provision)
    lock = actions.add_parser(
        "lock", help="refuse the user's logins and end their sessions (provision unlocks)"
    )
    lock.add_argument("user", metavar="EMAIL|ID")
    lock.set_defaults(command=users_lock)
    revoke = actions.add_parser("revoke", help="lock, unmap and drop the user's database role")
    revoke.add_argument("user", metavar="EMAIL|ID")
    revoke.set_defaults(command=users_revoke)


def db_secure(args: argparse.Namespace) -> int:
    from workbench.db.engine import open_database
    from workbench.db.security import secure_database

    database = open_database()
    try:
        report = secure_database(database)
    finally:
        database.engine.dispose()
    for line in [*report.lines(), *report.notes]:
        print(line)
    print(f"secured: {len(report.tables)} tables on {database.describe()}")
    return 0


def users_provision(args: argparse.Namespace) -> int:
    from workbench.db.engine import open_database
    from workbench.db.security import provision_role

    database = open_database()
    try:
        provisioned = provision_role(database, find_user_id(database, args.user))
    finally:
        database.engine.dispose()
    if args.print_url:
        print(provisioned.database_url())
    else:
        print(
            f"Role {provisioned.role} has a new password (not shown; the previous one no longer "
            "works). Run again with --print-url to get a DATABASE_URL for it."
        )
    return 0


def users_lock(args: argparse.Namespace) -> int:
    from workbench.db.engine import open_database
    from workbench.db.security import lock_role

    database = open_database()
    try:
        role = lock_role(database, find_user_id(database, args.user))
    finally:
        database.engine.dispose()
    if role is None:
        print("That user has no database role here; nothing to lock.")
    else:
        print(f"Role {role} is locked and its sessions ended; `users provision` unlocks it.")
    return 0


def users_revoke(args: argparse.Namespace) -> int:
    from workbench.db.engine import open_database
    from workbench.db.security import revoke_role

    database = open_database()
    try:
        role = revoke_role(database, find_user_id(database, args.user))
    finally:
        database.engine.dispose()
    print(f"Role {role} is dropped; its sessions were ended.")
    return 0


def find_user_id(database: Database, user: str) -> str:
    """The id of the user named by email (anything with an @) or by id."""
    from sqlalchemy import text

    wanted = user.strip()
    if not wanted:
        raise ValidationError("Name the user by email or id.")
    column = "lower(email)" if "@" in wanted else "id"
    value = wanted.lower() if "@" in wanted else wanted
    with database.engine.connect() as connection:
        found = connection.execute(
            text(f'SELECT id FROM public."user" WHERE {column} = :v'), {"v": value}
        ).scalar()
    if found is None:
        raise NotFound(f"No user with {'email' if '@' in wanted else 'id'} {wanted!r}.")
    return str(found)
