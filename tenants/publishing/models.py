"""What an organization publishes: Central servers, projects, app users, variables,
form templates, their immutable versions, and publish runs with their events.

All of it lives in the organization's own schema. Credentials (Central
passwords, app-user tokens, admin passwords) are never columns here: they are
in the organization's secret store, named after the row that owns them.
"""

from __future__ import annotations

from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from tenants.publishing.immutable import ImmutableModel

NAME_IN_FORMS = RegexValidator(
    r"^[A-Za-z0-9_]{1,60}$",
    "Use 1 to 60 letters, digits and underscores, so the name stays valid in form ids "
    "and entity-list names.",
    code="invalid_name",
)
VARIABLE_NAME = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_]{0,63}$",
    "Start with a letter or underscore, then letters, digits or underscores.",
    code="invalid_variable_name",
)
FORM_ID_BASE = RegexValidator(
    r"^[A-Za-z_][A-Za-z0-9_]{0,59}$",
    "Start with a letter or underscore, then letters, digits or underscores.",
    code="invalid_form_id",
)


class CentralServer(models.Model):
    name = models.CharField(max_length=100)
    base_url = models.URLField(max_length=300, unique=True)
    # Shown in lists instead of the account name itself (e.g. "a***@example.org").
    username_hint = models.CharField(max_length=254, blank=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def __repr__(self) -> str:
        return f"<CentralServer {self.pk} {self.base_url}>"


class Project(models.Model):
    name = models.CharField(max_length=200)
    server = models.ForeignKey(CentralServer, on_delete=models.PROTECT, related_name="projects")
    central_project_id = models.PositiveIntegerField()
    app_language = models.CharField(max_length=10, default="en")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["server", "central_project_id"], name="uniq_project_per_central"
            )
        ]

    def __str__(self) -> str:
        return self.name


class VariableTransform(models.TextChoices):
    NONE = "", "None"
    SHA256 = "sha256", "SHA-256 digest"


class TemplateVariable(models.Model):
    """A named value that form templates receive per project and app user."""

    name = models.CharField(max_length=64, unique=True, validators=[VARIABLE_NAME])
    transform = models.CharField(
        max_length=10, choices=VariableTransform.choices, blank=True, default=""
    )
    description = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


# The longest value a template variable may hold (a district, a site code, a phone number...):
# enforced here, by the services, the API, imports and the workspace's forms alike.
VALUE_MAX_LENGTH = 1_000


class ProjectVariableValue(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="variable_values")
    variable = models.ForeignKey(TemplateVariable, on_delete=models.CASCADE, related_name="+")
    # For sha256 variables only the digest is kept: the raw value never enters a form.
    value = models.CharField(max_length=VALUE_MAX_LENGTH, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "variable"], name="uniq_project_value")
        ]

    def __str__(self) -> str:
        return f"{self.variable_id}@project {self.project_id}"


class AppUser(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="app_users")
    name = models.CharField(max_length=60, validators=[NAME_IN_FORMS])
    central_id = models.PositiveIntegerField(null=True, blank=True)
    qr_code = models.CharField(max_length=300, blank=True)  # storage name of the PNG
    qr_inputs_sha256 = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint("project", Lower("name"), name="uniq_app_user_name_ci")
        ]

    def __str__(self) -> str:
        return self.name


class RevocationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    REVOKED = "revoked", "Revoked"
    ALREADY_GONE = "already_gone", "Already gone from Central"
    SKIPPED = "skipped", "Skipped"
    FAILED = "failed", "Failed"


class AppUserRevocation(models.Model):
    """A deleted app user whose access in Central is revoked in the background.

    The app user's row is gone with its QR code and assignments; this tombstone
    keeps what the job needs (server, Central project and app-user id) and the
    outcome, so a retried job knows it is done and people can see what happened.
    """

    server = models.ForeignKey(
        CentralServer, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    project = models.ForeignKey(Project, null=True, on_delete=models.SET_NULL, related_name="+")
    central_project_id = models.PositiveIntegerField()
    central_id = models.PositiveIntegerField()
    app_user_id = models.BigIntegerField()  # the deleted row's id, for notices and logs
    app_user_name = models.CharField(max_length=60)
    status = models.CharField(
        max_length=20, choices=RevocationStatus.choices, default=RevocationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by_label = models.CharField(max_length=254, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"revoke {self.app_user_name} ({self.status})"


class AppUserVariableValue(models.Model):
    app_user = models.ForeignKey(AppUser, on_delete=models.CASCADE, related_name="variable_values")
    variable = models.ForeignKey(TemplateVariable, on_delete=models.CASCADE, related_name="+")
    value = models.CharField(max_length=VALUE_MAX_LENGTH, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["app_user", "variable"], name="uniq_app_user_value")
        ]

    def __str__(self) -> str:
        return f"{self.variable_id}@app user {self.app_user_id}"


class SourceKind(models.TextChoices):
    GOOGLE_SHEET = "google_sheet", "Google Sheet"
    UPLOAD = "upload", "Uploaded .xlsx"


class ActiveTemplateManager(models.Manager):
    """Templates in use (``FormTemplate.objects``): archived ones are hidden.

    ``FormTemplate.all_objects`` (the default manager, so that relations and
    generic code such as row locks see every row) includes archived ones, for
    their detail page, downloads and restore.
    """

    def get_queryset(self) -> models.QuerySet:
        return super().get_queryset().filter(archived_at__isnull=True)


class FormTemplate(models.Model):
    """A form published as one variant per app user.

    Deleting a template archives it (``archived_at``): its versions, their files
    and its runs stay, and an admin can restore it.
    """

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="templates")
    title_base = models.CharField(max_length=200)
    form_id_base = models.CharField(max_length=60, validators=[FORM_ID_BASE])
    source_kind = models.CharField(max_length=20, choices=SourceKind.choices)
    google_sheet_url = models.URLField(max_length=500, blank=True)
    source_file = models.CharField(max_length=300, blank=True)  # storage name of the upload
    source_sha256 = models.CharField(max_length=64, blank=True)
    app_users = models.ManyToManyField(
        AppUser, through="FormTemplateAppUser", related_name="templates"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    all_objects = models.Manager()
    objects = ActiveTemplateManager()

    class Meta:
        ordering = ["title_base"]
        default_manager_name = "all_objects"
        constraints = [
            models.UniqueConstraint(
                "project", Lower("form_id_base"), name="uniq_form_id_base_per_project"
            )
        ]

    def __str__(self) -> str:
        return self.title_base


class FormTemplateAppUser(models.Model):
    template = models.ForeignKey(FormTemplate, on_delete=models.CASCADE)
    app_user = models.ForeignKey(AppUser, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "app_user"], name="uniq_assignment")
        ]

    def __str__(self) -> str:
        return f"{self.app_user_id} in {self.template_id}"


class FormTemplateAttachment(models.Model):
    """A media or data file the template's forms use (uploaded with each draft)."""

    template = models.ForeignKey(FormTemplate, on_delete=models.CASCADE, related_name="attachments")
    name = models.CharField(max_length=200)
    file = models.CharField(max_length=300)  # storage name
    sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=100, default="application/octet-stream")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["template", "name"], name="uniq_attachment_name")
        ]

    def __str__(self) -> str:
        return self.name


class FormTemplateVersion(ImmutableModel):
    """One published version: immutable source and rendered artifacts with their hashes.

    Never changed or deleted (``ImmutableModel`` and a database trigger); a
    rollback publishes an old version's source again as a new version.
    """

    template = models.ForeignKey(FormTemplate, on_delete=models.PROTECT, related_name="versions")
    version = models.CharField(max_length=40)
    source_file = models.CharField(max_length=300)
    source_sha256 = models.CharField(max_length=64)
    published_by_id = models.BigIntegerField(null=True, blank=True)
    published_by_label = models.CharField(max_length=254, blank=True)
    app_user_names = models.JSONField(default=list)
    # The version whose source this one published again (a rollback), if any.
    rollback_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["template", "version"], name="uniq_template_version")
        ]

    def __str__(self) -> str:
        return self.version


class FormVariant(ImmutableModel):
    """One app user's rendered form of a version (immutable like its version)."""

    version = models.ForeignKey(
        FormTemplateVersion, on_delete=models.PROTECT, related_name="variants"
    )
    # Deleting the app user unlinks it (the one change the trigger allows);
    # ``app_user_name`` keeps who it was for.
    app_user = models.ForeignKey(AppUser, null=True, on_delete=models.SET_NULL, related_name="+")
    app_user_name = models.CharField(max_length=60)
    form_id = models.CharField(max_length=130)
    workbook_file = models.CharField(max_length=300)
    workbook_sha256 = models.CharField(max_length=64)
    xform_file = models.CharField(max_length=300)
    xform_sha256 = models.CharField(max_length=64)
    attachments = models.JSONField(default=list)
    warnings = models.JSONField(default=list)

    class Meta:
        ordering = ["app_user_name"]
        constraints = [
            models.UniqueConstraint(fields=["version", "app_user_name"], name="uniq_variant")
        ]

    def __str__(self) -> str:
        return self.form_id


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIALLY_FAILED = "partially_failed", "Partially failed"
    FAILED = "failed", "Failed"


ACTIVE_RUN_STATUSES = (RunStatus.QUEUED, RunStatus.RUNNING)


class PublishRun(models.Model):
    template = models.ForeignKey(FormTemplate, on_delete=models.CASCADE, related_name="runs")
    status = models.CharField(max_length=20, choices=RunStatus.choices, default=RunStatus.QUEUED)
    requested_by_id = models.BigIntegerField(null=True, blank=True)
    requested_by_label = models.CharField(max_length=254, blank=True)
    # Who asked for the latest retry: a retry that must still read a Google Sheet reads
    # it with this person's Google connection, never the original requester's.
    retried_by_id = models.BigIntegerField(null=True, blank=True)
    retried_by_label = models.CharField(max_length=254, blank=True)
    version = models.ForeignKey(
        FormTemplateVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="runs"
    )
    # A rollback: publish this stored version's source again (never re-read from Google).
    rollback_of = models.ForeignKey(
        FormTemplateVersion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rollback_runs",
    )
    error_code = models.CharField(max_length=60, blank=True)
    error = models.TextField(blank=True)
    issues = models.JSONField(default=list, blank=True)  # validation issues per app user
    attempt = models.PositiveIntegerField(default=1)
    job_id = models.BigIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # At most one queued or running publish per template.
            models.UniqueConstraint(
                fields=["template"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_run_per_template",
            )
        ]

    def __str__(self) -> str:
        return f"run {self.pk} of {self.template_id} ({self.status})"


class ItemStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    PUBLISHED = "published", "Published"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"


class PublishRunItem(models.Model):
    """One app user's share of a run: its own state, step and Central error."""

    run = models.ForeignKey(PublishRun, on_delete=models.CASCADE, related_name="items")
    app_user = models.ForeignKey(AppUser, null=True, on_delete=models.SET_NULL, related_name="+")
    app_user_name = models.CharField(max_length=60)
    status = models.CharField(max_length=10, choices=ItemStatus.choices, default=ItemStatus.PENDING)
    step = models.CharField(max_length=30, blank=True)
    error = models.TextField(blank=True)
    central_error = models.JSONField(null=True, blank=True)
    # Files Central was confirmed to hold when this item was published: name -> sha256.
    attachments_confirmed = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["app_user_name"]
        constraints = [
            models.UniqueConstraint(fields=["run", "app_user_name"], name="uniq_run_item")
        ]

    def __str__(self) -> str:
        return f"{self.app_user_name}: {self.status}"


class PublishEvent(models.Model):
    """What happened during a run, in order; replayed to sockets that reconnect."""

    run = models.ForeignKey(PublishRun, on_delete=models.CASCADE, related_name="events")
    item = models.ForeignKey(
        PublishRunItem, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    app_user_name = models.CharField(max_length=60, blank=True)
    step = models.CharField(max_length=30)
    state = models.CharField(max_length=20)
    message = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.step} {self.state}"
