"""`workbench keys`: administration of the stored provider API keys.

workbench keys rotate [--dry-run] [--keep-secret]   re-encrypt every user's keys (new secret,
                                                    and/or into the current format)
workbench keys format [v2|legacy]                   show or set the format new keys are written in

Rotation reads the current secret from ENCRYPTION_KEY_OLD and the new one from ENCRYPTION_KEY
(`--keep-secret`: ENCRYPTION_KEY for both, to convert rows only), and the database from
DATABASE_URL (else the embedded server), like every other command.
"""

from __future__ import annotations

import argparse
from typing import Any


def add_keys_commands(subparsers: argparse._SubParsersAction[Any]) -> None:
    """Register `workbench keys ...` on the top-level parser's subcommands."""
    keys = subparsers.add_parser(
        "keys", help="stored provider API keys: rotate the master secret, choose the format"
    )
    actions = keys.add_subparsers(metavar="ACTION", required=True)
    rotate = actions.add_parser(
        "rotate",
        help="re-encrypt every key from ENCRYPTION_KEY_OLD to ENCRYPTION_KEY, in one transaction",
        description=(
            "Re-encrypt every user's API keys: set ENCRYPTION_KEY_OLD to the secret they are "
            "stored under now and ENCRYPTION_KEY to the new one. All rows change or none do; "
            "every row comes out in the current format (`workbench keys format`)."
        ),
    )
    rotate.add_argument(
        "--dry-run", action="store_true", help="check every key decrypts; write nothing"
    )
    rotate.add_argument(
        "--keep-secret",
        action="store_true",
        help="keep ENCRYPTION_KEY (no ENCRYPTION_KEY_OLD): only convert rows to the current format",
    )
    rotate.set_defaults(command=rotate_command)
    add_format_command(actions)


def add_format_command(actions: argparse._SubParsersAction[Any]) -> None:
    chosen = actions.add_parser(
        "format",
        help="show or set the format new API keys are written in (v2 or legacy)",
        description=(
            "v2: authenticated and bound to its row (a changed or moved value does not decrypt), "
            "but an unchanged web app cannot read it. legacy: the web app's own <iv>:<ciphertext>, "
            "readable by it, not authenticated. Default: v2 where the workbench created the "
            "database, legacy where a Prisma app did. Existing rows change only with "
            "`workbench keys rotate --keep-secret`."
        ),
    )
    chosen.add_argument("format", nargs="?", choices=("v2", "legacy"), help="the format to write")
    chosen.set_defaults(command=format_command)


def format_command(args: argparse.Namespace) -> int:
    from workbench.db.engine import open_database
    from workbench.services.keys.format import current_key_format, set_key_format

    database = open_database()
    where = database.describe()
    if args.format is None:
        current, chosen = current_key_format(database)
        how = "chosen with `workbench keys format`" if chosen else "the default for this database"
        print(f"New API keys in {where} are written in the {current} format ({how}).")
        return 0
    set_key_format(database, args.format)
    print(
        f"New API keys in {where} will be written in the {args.format} format. Existing rows are "
        "unchanged; convert them with `workbench keys rotate --keep-secret`."
    )
    return 0


def rotate_command(args: argparse.Namespace) -> int:
    from workbench.crypto.master_secret import new_master_secret, old_master_secret
    from workbench.db.engine import open_database
    from workbench.services.keys.rotation import rotate_keys

    new_secret = new_master_secret()
    old_secret = new_secret if args.keep_secret else old_master_secret()
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
    if args.keep_secret:
        print(
            f"Rewrote {report.rotated} API keys in {where} in the {report.format} format "
            f"({report.from_legacy} were in the legacy format); ENCRYPTION_KEY is unchanged."
        )
        return 0
    print(
        f"Re-encrypted {report.rotated} API keys in {where} under the new ENCRYPTION_KEY, in the "
        f"{report.format} format ({report.from_legacy} were in the legacy format). Give the web "
        "app the same ENCRYPTION_KEY, then unset ENCRYPTION_KEY_OLD."
    )
    return 0
