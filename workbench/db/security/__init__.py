"""Isolation the database enforces on a shared hub: per-user roles and row-level security.

`secure(connection)` (`workbench db secure`) sets up the group role, the role-to-user mapping,
the definer function and every table's grants and policies; `provision_role` and `revoke_role`
(`workbench users ...`, the JupyterHub hooks) manage one user's login role.
"""

from workbench.db.security.policies import SecureReport, secure, secure_database
from workbench.db.security.roles import (
    ProvisionedRole,
    lock_role,
    provision_role,
    revoke_role,
    role_name_for,
)
from workbench.db.security.sql import GROUP_ROLE

__all__ = [
    "GROUP_ROLE",
    "ProvisionedRole",
    "SecureReport",
    "lock_role",
    "provision_role",
    "revoke_role",
    "role_name_for",
    "secure",
    "secure_database",
]
