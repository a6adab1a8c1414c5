"""Entity lists (datasets) of the fake Central, as central-backend keeps them.

A form that declares ``meta/entity`` creates or updates a dataset when it is
uploaded (as a draft dataset with draft properties) and publishes them when the
form is published. The checks and their order follow ``Datasets.createOrMerge``
and ``Datasets.publishIfExists``: a name that differs from a published dataset's
only by case is 409.16; a new property that differs from a published one only by
case is 409.17; bad names and fields saving to one property twice are 400.25.
``POST /datasets`` and ``POST /datasets/{name}/properties`` create published ones
directly (409.3 when they exist). Everything is checked before anything changes,
as Central's transaction would roll it all back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.central import problems
from tests.fakes.central.models import Definition, FormRecord, Request, json_body, now
from tests.fakes.central.xforms import EntityDeclarations

_DATASET_NAME = re.compile(r"^(?!__)(?:[^\W\d]|:)[\w:-]*$")
_PROPERTY_NAME = re.compile(r"^(?!__)(?!name$)(?!label$)[^\W\d][\w.-]*$")
_VERSION = re.compile(r"^(\d+)\.(\d+)(?:\.(\d+))?$")


def valid_dataset_name(name: str) -> bool:
    return bool(_DATASET_NAME.match(name)) and "." not in name


def valid_property_name(name: str) -> bool:
    return bool(_PROPERTY_NAME.match(name.lower()))


@dataclass
class PropertyRecord:
    name: str
    published_at: str | None = None
    fields: dict[int, str] = field(default_factory=dict)  # form def id -> field path


@dataclass
class DatasetRecord:
    id: int
    name: str
    project_id: int
    created_at: str
    published_at: str | None = None
    approval_required: bool = False
    owner_only: bool = False
    properties: dict[str, PropertyRecord] = field(default_factory=dict)
    form_defs: dict[int, str] = field(default_factory=dict)  # form def id -> entity path


@dataclass
class _Merge:
    """One dataset a form def declares, checked and ready to apply."""

    name: str
    path: str
    properties: list[tuple[str, str]]  # (property name, field path)


class DatasetRoutes:
    """Mixed into the form routes (and so into :class:`CentralState`)."""

    datasets: dict[tuple[int, str], DatasetRecord]
    forms: dict[tuple[int, str], FormRecord]

    def _project(self, req: Request, pid: str) -> dict[str, Any]:
        raise NotImplementedError

    def next_id(self, kind: str) -> int:
        raise NotImplementedError

    # --- forms that declare entities ----------------------------------------------------

    def datasets_check(self, project_id: int, entities: EntityDeclarations | None) -> list[_Merge]:
        """Validate a definition's entity declarations against the project (no change yet)."""
        if entities is None:
            return []
        version = _check_spec_version(entities.version)
        merges = []
        for name, path, actions in entities.datasets:
            if name is None:
                raise problems.invalid_entity_form("Dataset name is missing.")
            if not valid_dataset_name(name):  # an empty name too
                raise problems.invalid_entity_form("Invalid dataset name.")
            if not actions:
                raise problems.invalid_entity_form(
                    "The form must specify at least one entity action, for example, create or "
                    "update."
                )
            merges.append(_Merge(name, path, []))
        if any(not valid_property_name(p) for p, _ in entities.properties):
            raise problems.invalid_entity_form("Invalid entity property name.")
        paths = sorted((m.path for m in merges), key=lambda p: -p.count("/"))
        for prop, field_path in entities.properties:
            closest = next((p for p in paths if (field_path + "/").startswith(p)), None)
            if closest is not None:
                next(m for m in merges if m.path == closest).properties.append((prop, field_path))
        if (len(merges) > 1 or any(m.path != "/" for m in merges)) and version < (2025, 1):
            raise problems.invalid_entity_form(
                f"Entities specification version [{entities.version}] is not compatible with "
                "entities from repeats or multiple entity lists.  Please use version 2025.1.0 "
                "or later."
            )
        for merge in merges:
            self._check_merge(project_id, merge)
        return merges

    def _check_merge(self, project_id: int, merge: _Merge) -> None:
        similar = self._published_similar(project_id, merge.name)
        if similar is not None:
            raise problems.dataset_name_conflict(similar.name, merge.name)
        lowered = [p.lower() for p, _ in merge.properties]
        if len(set(lowered)) != len(lowered):
            raise problems.invalid_entity_form(
                "Multiple Form Fields cannot be saved to a single property."
            )
        existing = self.datasets.get((project_id, merge.name))
        if existing is None:
            return
        published = [p.name for p in existing.properties.values() if p.published_at]
        duplicates = [
            {"current": current, "provided": provided}
            for provided, _ in merge.properties
            if provided not in published
            for current in [next((n for n in published if n.lower() == provided.lower()), None)]
            if current is not None
        ]
        if duplicates:
            raise problems.property_name_conflict(duplicates)

    def datasets_merge(self, project_id: int, definition: Definition, merges: list[_Merge]) -> None:
        """Create or update the draft datasets and properties a checked def declares."""
        for merge in merges:
            dataset = self.datasets.get((project_id, merge.name))
            if dataset is None:
                dataset = DatasetRecord(self.next_id("dataset"), merge.name, project_id, now())
                self.datasets[(project_id, merge.name)] = dataset
            dataset.form_defs[definition.id] = merge.path
            for prop, field_path in merge.properties:
                record = dataset.properties.setdefault(prop, PropertyRecord(prop))
                record.fields[definition.id] = field_path

    def link_published_datasets(self, project_id: int, definition: Definition) -> None:
        """A new form's ``<name>.csv`` file attachments use the published dataset of that name."""
        for name, attachment in definition.attachments.items():
            dataset = self.datasets.get((project_id, name[: -len(".csv")]))
            if (
                attachment.type == "file"
                and name.endswith(".csv")
                and dataset is not None
                and dataset.published_at is not None
            ):
                attachment.dataset = dataset.name

    def datasets_publish_check(self, project_id: int, definition: Definition) -> None:
        for dataset in self._declared_by(project_id, definition):
            similar = self._published_similar(project_id, dataset.name)
            if dataset.published_at is None and similar is not None:
                raise problems.dataset_name_conflict(similar.name, dataset.name)
            duplicates = [
                {"provided": prop.name, "current": other.name}
                for prop in dataset.properties.values()
                if definition.id in prop.fields and prop.published_at is None
                for other in dataset.properties.values()
                if other.published_at and other.name.lower() == prop.name.lower()
            ]
            if duplicates:
                raise problems.property_name_conflict(duplicates)

    def datasets_publish(self, project_id: int, definition: Definition, published_at: str) -> None:
        for dataset in self._declared_by(project_id, definition):
            for prop in dataset.properties.values():
                if definition.id in prop.fields and prop.published_at is None:
                    prop.published_at = published_at
            if dataset.published_at is None:
                dataset.published_at = published_at
                attachment = definition.attachments.get(f"{dataset.name}.csv")
                if (
                    attachment is not None
                    and attachment.type == "file"
                    and attachment.data is None
                    and attachment.dataset is None
                ):
                    attachment.dataset = dataset.name

    def _declared_by(self, project_id: int, definition: Definition) -> list[DatasetRecord]:
        return [
            d
            for (p, _), d in self.datasets.items()
            if p == project_id and definition.id in d.form_defs
        ]

    def _published_similar(self, project_id: int, name: str) -> DatasetRecord | None:
        return next(
            (
                d
                for (p, n), d in self.datasets.items()
                if p == project_id and n != name and n.lower() == name.lower() and d.published_at
            ),
            None,
        )

    # --- routes -------------------------------------------------------------------------

    def list_datasets(self, req: Request, pid: str) -> tuple[int, Any]:
        self._project(req, pid)
        found = [d for (p, _), d in self.datasets.items() if p == int(pid) and d.published_at]
        extended = req.headers.get("x-extended-metadata") == "true"
        return 200, [_dataset_json(d, extended) for d in sorted(found, key=lambda d: d.name)]

    def get_dataset(self, req: Request, pid: str, name: str) -> tuple[int, Any]:
        self._project(req, pid)
        return 200, self._metadata(self._published_dataset(int(pid), name))

    def create_dataset(self, req: Request, pid: str) -> tuple[int, Any]:
        self._project(req, pid)
        body = json_body(req)
        name = body.get("name")
        if not isinstance(name, str) or not valid_dataset_name(name):
            raise problems.unexpected_value("name", name, "This is not a valid dataset name.")
        similar = self._published_similar(int(pid), name)
        if similar is not None:
            raise problems.dataset_name_conflict(similar.name, name)
        dataset = self.datasets.get((int(pid), name))
        if dataset is not None and dataset.published_at:
            raise problems.already_exists(["name", "projectId"], [name, int(pid)], "datasets")
        if dataset is None:
            dataset = DatasetRecord(self.next_id("dataset"), name, int(pid), now())
            self.datasets[(int(pid), name)] = dataset
        dataset.published_at = now()
        for flag, attribute in (
            ("approvalRequired", "approval_required"),
            ("ownerOnly", "owner_only"),
        ):
            if isinstance(body.get(flag), bool):
                setattr(dataset, attribute, body[flag])
        return 200, self._metadata(dataset)

    def create_property(self, req: Request, pid: str, name: str) -> tuple[int, Any]:
        self._project(req, pid)
        dataset = self._published_dataset(int(pid), name)
        prop = json_body(req).get("name")
        if not isinstance(prop, str) or not valid_property_name(prop):
            raise problems.unexpected_value("name", prop, "This is not a valid property name.")
        clash = next(
            (
                p
                for p in dataset.properties.values()
                if p.published_at and p.name.lower() == prop.lower()
            ),
            None,
        )
        if clash is not None:
            raise problems.already_exists(
                ["name", "datasetId"], [clash.name, dataset.id], "ds_properties"
            )
        record = dataset.properties.setdefault(prop, PropertyRecord(prop))
        record.published_at = now()
        return 200, {"success": True}

    def _published_dataset(self, project_id: int, name: str) -> DatasetRecord:
        dataset = self.datasets.get((project_id, name))
        if dataset is None or dataset.published_at is None:
            raise problems.not_found()
        return dataset

    def _metadata(self, dataset: DatasetRecord) -> dict[str, Any]:
        """``Datasets.getMetadata``: the dataset, its published properties and its forms."""
        source, draft_source, linked, draft_linked = [], [], [], []
        for (p, _), form in self.forms.items():
            if p != dataset.project_id:
                continue
            for definition, sources, links in (
                (form.current, source, linked),
                (form.draft, draft_source, draft_linked),
            ):
                if definition is None:
                    continue
                entry = {"name": definition.name or form.xml_form_id, "xmlFormId": form.xml_form_id}
                if definition.id in dataset.form_defs:
                    path = dataset.form_defs[definition.id]
                    sources.append({**entry, **({"repeatPath": path} if path != "/" else {})})
                if any(a.dataset == dataset.name for a in definition.attachments.values()):
                    links.append(entry)
        properties = []
        for prop in dataset.properties.values():
            if prop.published_at is None:
                continue
            writers = [
                {"xmlFormId": f.xml_form_id, "name": f.current.name or f.xml_form_id}
                for (p, _), f in self.forms.items()
                if p == dataset.project_id and f.current is not None and f.current.id in prop.fields
            ]
            properties.append(
                {
                    "name": prop.name,
                    "publishedAt": prop.published_at,
                    "odataName": _odata_name(prop.name),
                    "forms": writers,
                }
            )
        return {
            **_dataset_json(dataset, extended=False),
            "lastUpdate": max(
                [dataset.published_at or dataset.created_at]
                + [p.published_at for p in dataset.properties.values() if p.published_at]
            ),
            "linkedForms": linked,
            "sourceForms": source,
            "draftLinkedForms": draft_linked,
            "draftSourceForms": draft_source,
            "properties": properties,
        }


def _dataset_json(dataset: DatasetRecord, extended: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": dataset.name,
        "createdAt": dataset.created_at,
        "projectId": dataset.project_id,
        "approvalRequired": dataset.approval_required,
        "ownerOnly": dataset.owner_only,
        "deletedAt": None,
    }
    if extended:
        data.update({"entities": 0, "lastEntity": None, "conflicts": 0})
    return data


def _odata_name(name: str) -> str:
    name = re.sub(r"^([^a-z_])", r"_\1", name, flags=re.IGNORECASE)
    return re.sub(r"[^a-z0-9_]+", "_", name, flags=re.IGNORECASE)


def _check_spec_version(version: str | None) -> tuple[int, int]:
    """Central accepts entities-version 2022.1.0 up to 2025.1.x."""
    if not version:
        raise problems.invalid_entity_form("Entities specification version is missing.")
    match = _VERSION.match(version.strip())
    parsed = (int(match.group(1)), int(match.group(2))) if match else None
    if parsed is None or not (2022, 1) <= parsed <= (2025, 1):
        raise problems.invalid_entity_form(
            f"Entities specification version [{version}] is not supported."
        )
    return parsed
