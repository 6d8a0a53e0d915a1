"""Activity statistics: PostgreSQL shows every role every table's counters; revoke what we may.

`pg_stat_user_tables` and its kin (`pg_stat_get_live_tuples(oid)` and the other per-relation,
per-database and per-function `pg_stat_get_*` functions under them) are granted to PUBLIC, so
any per-user role reads how many rows every table holds and how many were inserted, updated
and deleted, live: when and how much the other users work. Only their owner, the bootstrap
superuser, may revoke that. So `db secure` run by a superuser revokes them from PUBLIC and
grants them to `pg_read_all_stats` (monitoring roles keep them); run by a CREATEROLE owner (as
on Neon) it can revoke nothing and says so. docs/isolation.md lists what stays visible either
way (row estimates in `pg_class`, relation sizes, sequence values, who is connected).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

from workbench.db.security.attributes import Admin

MONITOR = "pg_read_all_stats"
_VIEWS = [
    "pg_stat_all_tables",
    "pg_stat_user_tables",
    "pg_stat_sys_tables",
    "pg_stat_xact_all_tables",
    "pg_stat_xact_user_tables",
    "pg_stat_xact_sys_tables",
    "pg_statio_all_tables",
    "pg_statio_user_tables",
    "pg_statio_sys_tables",
    "pg_stat_all_indexes",
    "pg_stat_user_indexes",
    "pg_stat_sys_indexes",
    "pg_statio_all_indexes",
    "pg_statio_user_indexes",
    "pg_statio_sys_indexes",
    "pg_statio_all_sequences",
    "pg_statio_user_sequences",
    "pg_statio_sys_sequences",
    "pg_stat_user_functions",
    "pg_stat_xact_user_functions",
    "pg_stat_database",
    "pg_stat_database_conflicts",
]
# The counters behind those views: every pg_stat_get_* taking one oid (a table, an index, a
# database or a function). Those taking a backend number check their caller themselves.
_FUNCTIONS = r"""
SELECT p.oid::regprocedure::text FROM pg_proc p
WHERE p.pronamespace = 'pg_catalog'::regnamespace AND p.proname LIKE 'pg\_stat\_get\_%'
  AND p.pronargs = 1 AND p.proargtypes[0] = 'oid'::regtype
ORDER BY 1
"""


def revoke_statistics(connection: Connection, admin: Admin) -> str:
    """Take the activity statistics away from PUBLIC if this role may; a line for the report."""
    if not admin.superuser:
        return (
            "activity statistics (pg_stat_user_tables...): still readable by every role; only "
            f"a superuser may revoke them, and {admin.name} is none"
        )
    views = [
        view
        for view in _VIEWS
        if connection.execute(text("SELECT to_regclass(:v)"), {"v": f"pg_catalog.{view}"}).scalar()
    ]
    functions = connection.execute(text(_FUNCTIONS)).scalars().all()
    listed_views = ", ".join(f"pg_catalog.{view}" for view in views)
    listed_functions = ", ".join(f"pg_catalog.{function}" for function in functions)
    connection.execute(text(f"REVOKE SELECT ON {listed_views} FROM PUBLIC"))
    connection.execute(text(f"GRANT SELECT ON {listed_views} TO {MONITOR}"))
    connection.execute(text(f"REVOKE EXECUTE ON FUNCTION {listed_functions} FROM PUBLIC"))
    connection.execute(text(f"GRANT EXECUTE ON FUNCTION {listed_functions} TO {MONITOR}"))
    return (
        f"activity statistics: {len(views)} views and {len(functions)} pg_stat_get_* functions "
        f"revoked from PUBLIC, granted to {MONITOR}"
    )
