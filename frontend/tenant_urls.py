"""Pages of an organization's host. URL names start with the sidebar section they belong to."""

from django.urls import path

from frontend.views import (
    app_users,
    auth,
    form_templates,
    google,
    members,
    projects,
    publish,
    servers,
    tokens,
    variables,
    workspace,
)

urlpatterns = [
    path("", workspace.dashboard, name="dashboard"),
    path("login/", auth.login_view, name="login"),
    path("logout/", auth.logout_view, name="logout"),
    # members and invitations (admins)
    path("members/", members.members, name="members"),
    path("members/<int:pk>/role/", members.member_role, name="members-role"),
    path("members/<int:pk>/remove/", members.member_remove, name="members-remove"),
    path("members/leave/", members.leave, name="members-leave"),
    path("invitations/<int:pk>/revoke/", members.invitation_revoke_view, name="members-revoke"),
    path("invitations/<int:pk>/resend/", members.invitation_resend_view, name="members-resend"),
    # API tokens (admins)
    path("tokens/", tokens.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", tokens.token_revoke, name="tokens-revoke"),
    # Central servers
    path("servers/", servers.servers, name="servers"),
    path("servers/new/", servers.server_new, name="servers-new"),
    path("servers/<int:pk>/edit/", servers.server_edit, name="servers-edit"),
    path("servers/<int:pk>/delete/", servers.server_delete, name="servers-delete"),
    # projects
    path("projects/", projects.projects, name="projects"),
    path("projects/new/", projects.project_new, name="projects-new"),
    path("projects/import/", projects.project_import_view, name="projects-import"),
    path("projects/import/choices/", projects.project_import_choices, name="projects-choices"),
    path("projects/switch/", projects.project_switch, name="projects-switch"),
    path("projects/<int:pk>/edit/", projects.project_edit, name="projects-edit"),
    # template variables
    path("variables/", variables.variables, name="variables"),
    path("variables/<int:pk>/edit/", variables.variable_edit, name="variables-edit"),
    path("variables/<int:pk>/delete/", variables.variable_delete_view, name="variables-delete"),
    # app users
    path("app-users/", app_users.app_users, name="appusers"),
    path("app-users/new/", app_users.app_user_new, name="appusers-new"),
    path("app-users/import/", app_users.app_users_import, name="appusers-import"),
    path(
        "app-users/import/confirm/",
        app_users.app_users_import_confirm,
        name="appusers-import-confirm",
    ),
    path("app-users/export/", app_users.app_users_export_view, name="appusers-export"),
    path("app-users/qr/regenerate/", app_users.app_users_qr_regenerate, name="appusers-qr-all"),
    path("app-users/<int:pk>/", app_users.app_user_detail, name="appusers-detail"),
    path("app-users/<int:pk>/qr/", app_users.app_user_qr_panel, name="appusers-qr"),
    path("app-users/<int:pk>/qr.png", app_users.app_user_qr_png, name="appusers-qr-png"),
    path(
        "app-users/<int:pk>/qr/regenerate/",
        app_users.app_user_qr_regenerate,
        name="appusers-qr-regenerate",
    ),
    path("app-users/<int:pk>/delete/", app_users.app_user_delete_view, name="appusers-delete"),
    # form templates
    path("templates/", form_templates.form_templates, name="templates"),
    path("templates/new/", form_templates.template_new, name="templates-new"),
    path("templates/<int:pk>/", form_templates.template_detail, name="templates-detail"),
    path("templates/<int:pk>/edit/", form_templates.template_edit, name="templates-edit"),
    path(
        "templates/<int:pk>/delete/", form_templates.template_delete_view, name="templates-delete"
    ),
    path(
        "templates/<int:pk>/restore/",
        form_templates.template_restore_view,
        name="templates-restore",
    ),
    path("templates/<int:pk>/diff/", form_templates.template_diff, name="templates-diff"),
    path(
        "templates/<int:pk>/versions/<int:version_pk>/rollback/",
        form_templates.version_rollback_view,
        name="templates-rollback",
    ),
    path("templates/<int:pk>/publish/", publish.publish_page, name="templates-publish"),
    path("templates/<int:pk>/source/", form_templates.template_source, name="templates-source"),
    path(
        "templates/<int:pk>/attachments/",
        form_templates.template_attachment_upload,
        name="templates-attach",
    ),
    path(
        "templates/<int:pk>/attachments/<int:attachment_pk>/",
        form_templates.attachment_download,
        name="templates-attachment",
    ),
    path(
        "templates/<int:pk>/versions/<int:version_pk>/source/",
        form_templates.version_source,
        name="templates-version-source",
    ),
    path(
        "templates/<int:pk>/variants/<int:variant_pk>/<str:kind>/",
        form_templates.variant_download,
        name="templates-variant",
    ),
    # publish runs
    path("runs/", workspace.runs, name="runs"),
    path("runs/<int:pk>/", publish.run_detail, name="runs-detail"),
    path("runs/<int:pk>/live/", publish.run_live, name="runs-live"),
    path("runs/<int:pk>/retry/", publish.run_retry, name="runs-retry"),
    # audit trail (admins)
    path("audit/", workspace.audit, name="audit"),
    # Google
    path("google/picker-token/", google.google_picker_token, name="google-picker-token"),
]
