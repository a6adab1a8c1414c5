"""Names of the credentials publishing keeps in the organization's secret store.

One place builds every name, so no caller composes them by hand and a
reader can see at a glance what we hold.
"""

from __future__ import annotations


def central_username(server_id: int) -> str:
    return f"central-server/{server_id}/username"


def central_password(server_id: int) -> str:
    return f"central-server/{server_id}/password"


def app_user_token(app_user_id: int) -> str:
    return f"app-user/{app_user_id}/token"


def project_admin_password(project_id: int) -> str:
    return f"project/{project_id}/admin-pw"


def app_user_admin_password(app_user_id: int) -> str:
    return f"app-user/{app_user_id}/admin-pw"


def google_refresh_token(user_id: int) -> str:
    return f"google/user/{user_id}/refresh-token"
