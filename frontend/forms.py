"""Forms of the workspace: they check shape and carry field errors; services decide."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from control_plane.accounts.roles import Role
from control_plane.errors import ServiceError
from tenants.publishing.models import SourceKind, VariableTransform
from tenants.publishing.services.variables import ADMIN_PASSWORD


def apply_errors(form: forms.Form, error: Exception) -> None:
    """Put a service's ValidationError or ServiceError next to the fields it names."""
    if isinstance(error, ValidationError):
        if hasattr(error, "error_dict"):
            for field, messages in error.message_dict.items():
                target = field if field in form.fields else None
                for message in messages:
                    form.add_error(target, message)
        else:
            for message in error.messages:
                form.add_error(None, message)
        return
    if isinstance(error, ServiceError):
        form.add_error(error.field if error.field in form.fields else None, error.message)
        return
    raise error


class SignupForm(forms.Form):
    full_name = forms.CharField(
        max_length=200,
        required=False,
        label="Your name",
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    email = forms.EmailField(
        label="Email", widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Password",
        strip=False,
        help_text="At least 8 characters, not only digits, not a common password.",
    )
    organization_name = forms.CharField(max_length=200, label="Organization name")
    slug = forms.CharField(
        max_length=40,
        label="Address",
        help_text="Lowercase letters, digits and hyphens; your workspace will be at <address>.",
    )


class AccountForm(forms.Form):
    """Sign up to accept an invitation (no organization of one's own)."""

    full_name = forms.CharField(max_length=200, required=False, label="Your name")
    password = forms.CharField(
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        label="Password",
        strip=False,
    )


class OrganizationForm(forms.Form):
    name = forms.CharField(max_length=200, label="Organization name")
    slug = forms.CharField(
        max_length=40,
        label="Address",
        help_text="Lowercase letters, digits and hyphens, e.g. health-north.",
    )


class EmailLoginForm(AuthenticationForm):
    username = forms.EmailField(
        label="Email",
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )
    password = forms.CharField(
        label="Password",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.EDITOR)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


# --- organization pages ------------------------------------------------------------------


class TokenForm(forms.Form):
    EXPIRY = [("", "Never"), ("30", "In 30 days"), ("90", "In 90 days"), ("365", "In a year")]
    name = forms.CharField(max_length=100, help_text="What uses it, e.g. “Nightly export script”.")
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.VIEWER,
        help_text="The token can never do more than you can.",
    )
    expires_in = forms.ChoiceField(choices=EXPIRY, required=False, label="Expires")


class CentralServerForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="How you refer to it, e.g. “Production”.")
    base_url = forms.CharField(
        max_length=300,
        label="Address",
        help_text="The address you open Central at, e.g. https://central.example.org.",
        widget=forms.URLInput(attrs={"placeholder": "https://central.example.org"}),
    )
    username = forms.CharField(
        max_length=254,
        label="Account email",
        help_text="A Central web user that may create projects and forms.",
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    password = forms.CharField(
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Kept in your organization's secret store; never shown again.",
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["password"].help_text = "Leave empty to keep the stored password."
            self.fields["username"].help_text = "Enter the account email again to save changes."


class ProjectCreateForm(forms.Form):
    server = forms.ModelChoiceField(queryset=None, label="Central server", empty_label=None)
    name = forms.CharField(max_length=200, help_text="Created in Central with this name.")
    app_language = forms.CharField(
        max_length=10,
        initial="en",
        label="ODK Collect language",
        help_text="A language code such as en, fr or pt-BR.",
    )

    def __init__(self, *args, servers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["server"].queryset = servers


class ProjectImportForm(forms.Form):
    server = forms.ModelChoiceField(queryset=None, label="Central server", empty_label=None)
    # Rendered as radio buttons filled from the server (projects/_central_choices.html).
    central_project_id = forms.IntegerField(
        min_value=1,
        label="Project in Central",
        error_messages={"required": "Choose the project to import."},
    )
    app_language = forms.CharField(
        max_length=10,
        initial="en",
        label="ODK Collect language",
        help_text="A language code such as en, fr or pt-BR.",
    )

    def __init__(self, *args, servers=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["server"].queryset = servers


class ProjectEditForm(forms.Form):
    name = forms.CharField(max_length=200)
    app_language = forms.CharField(max_length=10, label="ODK Collect language")


class VariableForm(forms.Form):
    name = forms.CharField(
        max_length=64,
        help_text="Used in forms as ${name}; letters, digits and underscores.",
    )
    transform = forms.ChoiceField(
        choices=VariableTransform.choices,
        required=False,
        widget=forms.RadioSelect,
        label="Stored as",
        help_text="With SHA-256, values are replaced by their digest as soon as they are saved: "
        "forms receive the digest (to compare a typed PIN, for example) and nobody can read "
        "the original value again.",
    )
    description = forms.CharField(max_length=300, required=False)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["transform"].choices = [
            ("", "Plain text: forms receive the value as typed"),
            ("sha256", "SHA-256 digest: forms receive the hash, the value is never kept"),
        ]
        if editing:
            del self.fields["name"]


class AppUserForm(forms.Form):
    name = forms.CharField(
        max_length=60,
        help_text="Letters, digits and underscores; it becomes part of the form ids.",
    )


class VariableValuesMixin:
    """Adds one field per template variable, for a project's or an app user's own values.

    Plain values are shown and edited in place (empty = inherit). Digested
    (sha256) values and the admin password are never shown: empty keeps the
    stored value, and a “clear” box removes it.
    """

    def add_variable_fields(
        self,
        variables,
        current: dict[int, str],
        secret_set: set[int],
        *,
        inherited: dict[str, str] | None = None,
    ) -> None:
        self.variables = list(variables)
        self.value_fields = []
        for variable in self.variables:
            key = f"var_{variable.pk}"
            hidden = (
                variable.transform == VariableTransform.SHA256 or variable.name == ADMIN_PASSWORD
            )
            is_set = variable.pk in secret_set or variable.pk in current
            help_parts = [variable.description] if variable.description else []
            if inherited is not None and variable.name in inherited and not hidden:
                help_parts.append(f"Project value: {inherited[variable.name] or '(empty)'}.")
            if hidden:
                help_parts.append(
                    ("A value is set; type a new one to replace it." if is_set else "Not set.")
                    + (" Stored as a SHA-256 digest." if variable.transform else " Kept secret.")
                )
                self.fields[key] = forms.CharField(
                    required=False,
                    label=variable.name,
                    strip=False,
                    widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
                    help_text=" ".join(help_parts),
                )
                self.fields[f"clear_{variable.pk}"] = forms.BooleanField(
                    required=False, label=f"Clear {variable.name}"
                )
            else:
                self.fields[key] = forms.CharField(
                    required=False,
                    label=variable.name,
                    initial=current.get(variable.pk, ""),
                    help_text=" ".join(help_parts),
                )
            self.value_fields.append(
                {
                    "variable": variable,
                    "field": key,
                    "clear": f"clear_{variable.pk}" if hidden else None,
                    "hidden": hidden,
                    "is_set": is_set,
                }
            )

    def value_changes(self, current: dict[int, str]) -> list[tuple[object, str | None]]:
        """(variable, new value or None to clear) for every value that changes."""
        changes = []
        for entry in self.value_fields:
            variable = entry["variable"]
            value = self.cleaned_data.get(entry["field"]) or ""
            if entry["hidden"]:
                if self.cleaned_data.get(entry["clear"]):
                    changes.append((variable, None))
                elif value:
                    changes.append((variable, value))
            elif value != current.get(variable.pk, ""):
                changes.append((variable, value or None))
        return changes


class ValuesForm(VariableValuesMixin, forms.Form):
    pass


class AppUserEditForm(VariableValuesMixin, forms.Form):
    pass


class AppUserCreateForm(VariableValuesMixin, AppUserForm):
    pass


class ProjectValuesForm(VariableValuesMixin, ProjectEditForm):
    pass


class TemplateForm(forms.Form):
    title_base = forms.CharField(
        max_length=200,
        label="Title",
        help_text="Each app user's form is titled “<title> [<app user>]”.",
    )
    form_id_base = forms.CharField(
        max_length=60,
        label="Form id",
        help_text="Each app user's form id is <form id>_<app user>; it cannot change later.",
    )
    source_kind = forms.ChoiceField(
        choices=SourceKind.choices,
        widget=forms.RadioSelect,
        initial=SourceKind.UPLOAD,
        label="Spreadsheet",
    )
    google_sheet_url = forms.URLField(
        required=False,
        assume_scheme="https",
        max_length=500,
        label="Google Sheet address",
        widget=forms.URLInput(attrs={"placeholder": "https://docs.google.com/spreadsheets/d/…"}),
    )
    source = forms.FileField(
        required=False,
        label="XLSForm (.xlsx)",
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )
    app_users = forms.ModelMultipleChoiceField(
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="App users",
        help_text="Each chosen app user gets its own copy of the form.",
    )

    def __init__(self, *args, app_users=None, editing=False, google=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["app_users"].queryset = app_users
        if editing:
            del self.fields["form_id_base"]
            self.fields["source"].help_text = "Upload a new version of the spreadsheet (optional)."
        else:
            self.fields["source"].hide_optional = True  # required for uploads (checked below)
        if not google:
            self.fields["source_kind"].choices = [(SourceKind.UPLOAD, "Uploaded .xlsx")]

    def clean(self):
        data = super().clean()
        kind = data.get("source_kind")
        if kind == SourceKind.GOOGLE_SHEET and not data.get("google_sheet_url"):
            self.add_error("google_sheet_url", "Paste the address of the Google Sheet.")
        upload = data.get("source")
        if upload and not upload.name.lower().endswith(".xlsx"):
            self.add_error("source", "Upload an .xlsx file (Excel workbook).")
        return data


class AttachmentForm(forms.Form):
    file = forms.FileField(
        label="Media or data file",
        help_text="Name it as the form refers to it, e.g. villages.csv or logo.png.",
    )


class PublishForm(forms.Form):
    scope = forms.ChoiceField(
        choices=[("all", "All assigned app users"), ("some", "Only the app users I choose")],
        widget=forms.RadioSelect,
        initial="all",
        label="Publish to",
    )
    app_users = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label="App users"
    )

    def __init__(self, *args, app_users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["app_users"].queryset = app_users

    def clean(self):
        data = super().clean()
        if data.get("scope") == "some" and not data.get("app_users"):
            self.add_error("app_users", "Choose at least one app user.")
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV or Excel file",
        help_text="One row per app user: a name column, then one column per template variable.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".xlsx")):
            raise ValidationError("Upload a .csv or .xlsx file.")
        if upload.size > 5 * 1024 * 1024:
            raise ValidationError("The file is larger than 5 MB.")
        return upload
