"""Bulk import and export of a project's app users as CSV or XLSX.

A table has a ``name`` column and one column per template variable. Import
is two steps: ``app_users_import_plan`` reads the file and says, row by row,
what would happen (create, update, unchanged) or what is wrong, and changes
nothing; ``app_users_import_apply`` re-reads the same file and applies every
row in one transaction, or nothing at all if any row is wrong. A blank cell
leaves a value as it is.

Export writes the same columns, so an exported file can be edited and
imported back. ``admin_pw`` (a password) and ``sha256`` variables (stored
as digests, which an import would digest again) are not exported.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from control_plane.archives import ArchiveRefused, check_zip
from tenants.audit.services import audit_record
from tenants.publishing.models import (
    NAME_IN_FORMS,
    AppUser,
    AppUserVariableValue,
    Project,
    TemplateVariable,
    VariableTransform,
)
from tenants.publishing.services.app_users import app_user_create
from tenants.publishing.services.variable_values import MAX_VALUE_LENGTH, app_user_values_set
from tenants.publishing.services.variables import ADMIN_PASSWORD, digest

MAX_ROWS = 5000
MAX_FILE_BYTES = 5 * 1024 * 1024
XLSX_MAGIC = b"PK\x03\x04"
# Spreadsheet programs run cells starting with these as formulas (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class ImportRow:
    row: int  # the row number people see in their spreadsheet (header is row 1)
    name: str
    values: dict[str, str]
    action: str = ""  # create | update | unchanged | error
    errors: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class ImportPlan:
    sha256: str
    columns: list[str]
    rows: list[ImportRow]
    file_errors: list[str]

    @property
    def valid(self) -> bool:
        return not self.file_errors and not any(r.errors for r in self.rows)

    @property
    def summary(self) -> dict[str, int]:
        counts = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
        for row in self.rows:
            counts[row.action] += 1
        return counts

    def field_errors(self) -> dict[str, list[str]]:
        """Errors as ``{"rows.<row>.<column>": [...], "file": [...]}`` for the API."""
        errors: dict[str, list[str]] = {}
        if self.file_errors:
            errors["file"] = list(self.file_errors)
        for row in self.rows:
            for column, messages in row.errors.items():
                errors[f"rows.{row.row}.{column}"] = messages
        return errors


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        text = text[1:]  # undo the escape our own export adds
    return text


def read_table(data: bytes) -> list[list[str]]:
    """Rows of cells (strings) of a CSV (UTF-8) or the first sheet of an XLSX."""
    if data.startswith(XLSX_MAGIC):
        from openpyxl import load_workbook

        try:
            check_zip(data, what="file")
        except ArchiveRefused as exc:
            raise ValidationError({"file": exc.message}) from None
        except Exception as exc:  # not a zip, or a damaged one
            raise ValidationError({"file": "This is not a readable .xlsx file."}) from exc
        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a damaged file
            raise ValidationError({"file": "This is not a readable .xlsx file."}) from exc
        try:
            sheet = workbook.worksheets[0]
            rows = islice(sheet.iter_rows(values_only=True), MAX_ROWS + 2)
            return [[_cell(v) for v in row] for row in rows]
        finally:
            workbook.close()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError({"file": "Save the CSV file as UTF-8."}) from exc
    try:
        return [[_cell(v) for v in row] for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise ValidationError({"file": f"This CSV file cannot be read: {exc}."}) from exc


def _check_header(header: list[str], variables: dict[str, TemplateVariable]) -> list[str]:
    errors = []
    if "name" not in header:
        errors.append("The first row must have a 'name' column.")
    unknown = [c for c in header if c and c != "name" and c not in variables]
    if unknown:
        errors.append(f"Unknown columns (not template variables): {', '.join(unknown)}.")
    duplicates = sorted({c for c in header if c and header.count(c) > 1})
    if duplicates:
        errors.append(f"Columns appear twice: {', '.join(duplicates)}.")
    return errors


def _stored_values(project: Project) -> dict[int, dict[str, str]]:
    stored: dict[int, dict[str, str]] = {}
    rows = AppUserVariableValue.objects.filter(app_user__project=project).select_related("variable")
    for row in rows:
        stored.setdefault(row.app_user_id, {})[row.variable.name] = row.value
    return stored


def _would_change(
    values: dict[str, str], current: dict[str, str], variables: dict[str, TemplateVariable]
) -> bool:
    for name, value in values.items():
        variable = variables[name]
        if name == ADMIN_PASSWORD:
            return True  # kept in the secret store; not compared here
        wanted = digest(value) if variable.transform == VariableTransform.SHA256 else value
        if current.get(name) != wanted:
            return True
    return False


def app_users_import_plan(project: Project, data: bytes) -> ImportPlan:
    """What importing ``data`` into ``project`` would do, row by row. Writes nothing."""
    sha = hashlib.sha256(data).hexdigest()
    if len(data) > MAX_FILE_BYTES:
        return ImportPlan(sha, [], [], [f"Files are limited to {MAX_FILE_BYTES} bytes."])
    table = [row for row in read_table(data) if any(row)]
    if not table:
        return ImportPlan(sha, [], [], ["The file is empty."])
    header = [c.strip() for c in table[0]]
    variables = {v.name: v for v in TemplateVariable.objects.filter(name__in=header)}
    file_errors = _check_header(header, variables)
    if len(table) - 1 > MAX_ROWS:
        file_errors.append(f"Import at most {MAX_ROWS} app users at once.")
    if file_errors:
        return ImportPlan(sha, header, [], file_errors)
    existing = {a.name.lower(): a for a in AppUser.objects.filter(project=project)}
    stored = _stored_values(project)
    seen: dict[str, int] = {}
    rows: list[ImportRow] = []
    for number, cells in enumerate(table[1:], start=2):
        cells = cells + [""] * (len(header) - len(cells))
        record = dict(zip(header, cells, strict=False))
        name = record.pop("name", "")
        values = {k: v for k, v in record.items() if k and v}
        row = ImportRow(row=number, name=name, values=values)
        try:
            NAME_IN_FORMS(name)
        except ValidationError as exc:
            row.errors["name"] = exc.messages
        if name and name.lower() in seen:
            row.errors["name"] = [f"The same name is on row {seen[name.lower()]}."]
        seen.setdefault(name.lower(), number)
        for column, value in values.items():
            if len(value) > MAX_VALUE_LENGTH:
                row.errors[column] = [f"Values are limited to {MAX_VALUE_LENGTH} characters."]
        current = existing.get(name.lower())
        if row.errors:
            row.action = "error"
        elif current is None:
            row.action = "create"
        elif _would_change(values, stored.get(current.pk, {}), variables):
            row.action = "update"
        else:
            row.action = "unchanged"
        rows.append(row)
    return ImportPlan(sha, header, rows, [])


@dataclass(frozen=True)
class ImportResult:
    plan: ImportPlan
    created: list[AppUser]
    updated: list[AppUser]


def app_users_import_apply(
    project: Project, data: bytes, *, actor: Any, expected_sha256: str | None = None
) -> ImportResult:
    """Apply every row or none: ValidationError (with per-row fields) if any row is wrong."""
    plan = app_users_import_plan(project, data)
    if expected_sha256 and expected_sha256 != plan.sha256:
        raise ValidationError(
            {"expected_sha256": "The file differs from the one previewed; preview it again."}
        )
    if not plan.valid:
        raise ValidationError(plan.field_errors())
    existing = {a.name.lower(): a for a in AppUser.objects.filter(project=project)}
    created: list[AppUser] = []
    updated: list[AppUser] = []
    with transaction.atomic():
        for row in plan.rows:
            if row.action == "create":
                app_user = app_user_create(actor=actor, project=project, name=row.name)
                created.append(app_user)
            elif row.action == "update":
                app_user = existing[row.name.lower()]
                updated.append(app_user)
            else:
                continue
            if row.values:
                app_user_values_set(app_user, row.values, actor=actor)
        audit_record(
            "publishing.app_users.imported",
            actor=actor,
            target=project,
            data={"sha256": plan.sha256, "created": len(created), "updated": len(updated)},
        )
    return ImportResult(plan, created, updated)


# --- export ----------------------------------------------------------------------------


def export_columns() -> list[str]:
    names = TemplateVariable.objects.exclude(name=ADMIN_PASSWORD).exclude(
        transform=VariableTransform.SHA256
    )
    return ["name", *names.order_by("name").values_list("name", flat=True)]


def export_rows(project: Project) -> tuple[list[str], Iterable[list[str]]]:
    columns = export_columns()
    stored = _stored_values(project)
    app_users = AppUser.objects.filter(project=project).order_by("name")
    return columns, (
        [a.name, *(stored.get(a.pk, {}).get(c, "") for c in columns[1:])] for a in app_users
    )


def _escape_formula(value: str) -> str:
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def app_users_export(project: Project, file_format: str) -> bytes:
    """The project's app users as ``csv`` (UTF-8 with BOM, for spreadsheets) or ``xlsx``."""
    columns, rows = export_rows(project)
    if file_format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([_escape_formula(v) for v in row])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("app users")
        sheet.append(columns)
        for row in rows:
            sheet.append([_escape_formula(v) for v in row])
        buffer = io.BytesIO()
        workbook.save(buffer)
        return buffer.getvalue()
    raise ValidationError({"format": "Choose csv or xlsx."})
