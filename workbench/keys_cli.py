"""`workbench keys`: administration of the stored provider API keys.

workbench keys rotate [--dry-run]   re-encrypt every user's keys under a new master secret

Rotation reads the current secret from ENCRYPTION_KEY_OLD and the new one from ENCRYPTION_KEY,
and the database from DATABASE_URL (else the embedded server), like every other command.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_keys_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `workbench keys ...` on the top-level parser's subcommands."""
    keys = subparsers.add_parser("keys", help="stored provider API keys: rotate the master secret")
    actions = keys.add_subparsers(metavar="ACTION", required=True)
    rotate = actions.add_parser(
        "rotate",
        help="re-encrypt every key from ENCRYPTION_KEY_OLD to ENCRYPTION_KEY, in one transaction",
        description=(
            "Re-encrypt every user's API keys: set ENCRYPTION_KEY_OLD to the secret they are "
            "stored under now and ENCRYPTION_KEY to the new one. All rows change or none do; "
            "legacy rows come out in the authenticated v2 format."
        ),
    )
    rotate.add_argument(
        "--dry-run", action="store_true", help="check every key decrypts; write nothing"
    )
    rotate.set_defaults(command=rotate_command)


def rotate_command(args: argparse.Namespace) -> int:
    from workbench.crypto.master_secret import new_master_secret, old_master_secret
    from workbench.db.engine import open_database
    from workbench.services.key_rotation import rotate_keys

    old_secret, new_secret = old_master_secret(), new_master_secret()
    database = open_database()
    report = rotate_keys(
        database, old_secret=old_secret, new_secret=new_secret, dry_run=args.dry_run
    )
    where = database.describe()
    if report.dry_run:
        print(
            f"Dry run: all {report.rotated} API keys in {where} decrypt under ENCRYPTION_KEY_OLD "
            f"({report.from_legacy} in the legacy format). Nothing was written."
        )
        return 0
    print(
        f"Re-encrypted {report.rotated} API keys in {where} under the new ENCRYPTION_KEY "
        f"({report.from_legacy} were in the legacy format). Give the web app the same "
        "ENCRYPTION_KEY, then unset ENCRYPTION_KEY_OLD."
    )
    return 0
