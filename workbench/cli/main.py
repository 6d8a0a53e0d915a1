"""The `workbench` command: database administration and opening JupyterLab.

workbench db upgrade        build or update the schema (DATABASE_URL, else embedded)
workbench db check          compare `public` with the shared contract
workbench db status|stop    the embedded PostgreSQL server: running? stop it
workbench lab               JupyterLab on a writable copy of the tutorials
workbench keys rotate       re-encrypt every API key under a new ENCRYPTION_KEY
workbench run               play a suite against a model (exit 1 on a failure, 2 on errors)
workbench worker            play a run's attempts from the database, beside other workers
workbench db secure         row-level security for per-user roles (shared hubs)
workbench users provision   a user's own database role and DATABASE_URL (see docs/isolation.md)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from workbench.cli.startup import end_process, start_up
from workbench.errors import WorkbenchError

Command = Callable[[argparse.Namespace], int]


def main(argv: Sequence[str] | None = None) -> int:
    own_process = argv is None  # `workbench ...`, not a call from Python (a test)
    with start_up(own_process=own_process):  # imports without collections (cli/startup.py)
        parser = build_parser()
        args = parser.parse_args(argv)
    args.own_process = own_process
    command: Command | None = getattr(args, "command", None)
    if command is None:
        parser.print_help()
        return 2
    try:
        code = command(args)
    except WorkbenchError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if own_process and getattr(args, "end_process", False):
        return end_process(code)  # no teardown (cli/startup.py): `workbench worker`
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(metavar="COMMAND")

    db = commands.add_parser("db", help="database schema: upgrade, downgrade, check, current")
    db_commands = db.add_subparsers(metavar="ACTION", required=True)
    upgrade = db_commands.add_parser("upgrade", help="create or update the schema")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(command=db_upgrade)
    downgrade = db_commands.add_parser("downgrade", help="undo migrations (default: all)")
    downgrade.add_argument("revision", nargs="?", default="base")
    downgrade.set_defaults(command=db_downgrade)
    check = db_commands.add_parser("check", help="compare the public schema with the contract")
    check.set_defaults(command=db_check)
    current = db_commands.add_parser("current", help="show the schema revision")
    current.set_defaults(command=db_current)
    from workbench.cli.users import add_db_secure_command, add_users_commands

    add_db_secure_command(db_commands)
    from workbench.cli.embedded import add_server_commands

    add_server_commands(db_commands)

    lab = commands.add_parser("lab", help="open JupyterLab on a copy of the tutorials")
    lab.add_argument("--dir", help="where to copy the tutorials (default: ./workbench-tutorials)")
    lab.add_argument(
        "--port",
        type=int,
        default=None,
        help="port JupyterLab listens on (default: 8888, or the next free one)",
    )
    lab.add_argument("--no-browser", action="store_true")
    lab.set_defaults(command=open_lab)

    from workbench.cli.keys import add_keys_commands
    from workbench.cli.runs import add_run_command

    add_keys_commands(commands)
    add_run_command(commands)
    from workbench.cli.worker import add_worker_command

    add_worker_command(commands)
    add_users_commands(commands)
    return parser


def db_upgrade(args: argparse.Namespace) -> int:
    from workbench.db.engine import open_database
    from workbench.db.migrate import upgrade

    database = open_database(check_schema=False)
    upgrade(database, args.revision)
    print(f"Schema is at {args.revision} on {database.describe()}.")
    return 0


def db_downgrade(args: argparse.Namespace) -> int:
    from workbench.db.engine import open_database
    from workbench.db.migrate import downgrade

    database = open_database(check_schema=False)
    downgrade(database, args.revision)
    print(f"Schema is at {args.revision} on {database.describe()}.")
    return 0


def db_current(args: argparse.Namespace) -> int:
    from workbench.db.engine import current_revision, open_database

    database = open_database(check_schema=False)
    print(current_revision(database) or "(no workbench schema)")
    return 0


def db_check(args: argparse.Namespace) -> int:
    from workbench.db.contract import check_contract
    from workbench.db.engine import open_database

    database = open_database(check_schema=False)
    with database.engine.connect() as connection:
        report = check_contract(connection)
    for line in report.allowed:
        print(f"allowed {line}")
    for difference in report.differences:
        print(difference)
    if report.matches:
        print(f"matches: the public schema of {database.describe()} is the contract")
        return 0
    print(f"{len(report.differences)} differences from the contract")
    return 1


def open_lab(args: argparse.Namespace) -> int:
    from workbench.cli.lab import launch_lab

    return launch_lab(target=args.dir, port=args.port, open_browser=not args.no_browser)


if __name__ == "__main__":
    sys.exit(main())
