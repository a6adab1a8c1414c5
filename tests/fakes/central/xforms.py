"""Form intake of the fake Central: XForm parsing, XLSForm conversion, expected attachments.

Mirrors what Central does with an uploaded definition: .xlsx/.xls bodies go
through pyxform (Central calls pyxform-http), XML is read for its form id,
version and title, and the attachments the form will need are listed from the
model (``<instance src>``, itext media, media default values, ``input[@query]``).

Central reads XML with a forgiving SAX parser: a body that is not XML at all
yields no form id, so it answers 400.2 "Required parameter formId missing."
(not 400.1). Entity declarations (``meta/entity`` and ``entities:saveto`` binds)
are read for the datasets the form creates or updates.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import uuid
import xml.etree.ElementTree as ET  # noqa: S405 - parsing our own test inputs
from dataclasses import dataclass, field
from pathlib import Path

from tests.fakes.central import problems
from tests.fakes.central.problems import Problem

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLS = "application/vnd.ms-excel"
_JR_PATH = re.compile(r"^jr://(images|audio|video|file|file-csv)/([^/]+)$")
_MEDIA_FORMS = {"image": "image", "big-image": "image", "audio": "audio", "video": "video"}
_DEFAULT_TYPES = {"images": "image", "audio": "audio", "video": "video"}


@dataclass
class ParsedForm:
    xml: str
    xml_form_id: str
    version: str
    name: str | None
    attachments: dict[str, str] = field(default_factory=dict)  # name -> type
    warnings: list[str] = field(default_factory=list)
    has_meta: bool = True
    entities: EntityDeclarations | None = None

    @property
    def hash(self) -> str:
        return hashlib.md5(self.xml.encode(), usedforsecurity=False).hexdigest()

    @property
    def sha(self) -> str:
        return hashlib.sha1(self.xml.encode(), usedforsecurity=False).hexdigest()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.xml.encode()).hexdigest()


@dataclass
class EntityDeclarations:
    """What a form says about entity lists: ``datasets`` (name, path) and the
    properties its fields save to (property name, field path), as Central parses them."""

    version: str | None
    datasets: list[tuple[str | None, str, list[str]]]  # (name or None if absent, path, actions)
    properties: list[tuple[str, str]]  # (property name, field path)


def intake(body: bytes, content_type: str, fallback_id: str | None) -> ParsedForm:
    """Turn a request body into a form definition, or raise Central's 400 problem."""
    warnings: list[str] = []
    if content_type in (XLSX, XLS):
        xml, warnings = convert_xlsform(body, content_type, fallback_id)
    else:
        xml = body.decode("utf-8", "replace")
    parsed = parse_xform(xml)
    parsed.warnings = warnings
    if re.search(r"\.(xlsx?|xml)$", parsed.xml_form_id):
        raise problems.unexpected_value(
            "formId",
            parsed.xml_form_id,
            "The Form ID cannot end in .xls, .xlsx, or .xml. Please either specify an allowed "
            "ID in the form itself, or rename the file (eg change form.xls.xls to form.xls).",
        )
    return parsed


def convert_xlsform(body: bytes, content_type: str, fallback_id: str | None) -> tuple[str, list]:
    """Convert like pyxform-http: the fallback id becomes the file name, hence the default id."""
    from pyxform.errors import PyXFormError
    from pyxform.xls2xform import convert

    stem = Path(fallback_id or str(uuid.uuid4())).name or "form"
    suffix = ".xls" if content_type == XLS else ".xlsx"
    warnings: list[str] = []
    with tempfile.TemporaryDirectory(prefix="fake-central-") as folder:
        path = Path(folder) / f"{stem}{suffix}"
        path.write_bytes(body)
        try:
            result = convert(xlsform=path, warnings=warnings, validate=False)
        except (PyXFormError, ValueError, KeyError, OSError) as exc:
            raise Problem(
                400.15,
                "The given XLSForm file was not valid. Please see the error details for "
                "more information.",
                details={"error": str(exc), "warnings": warnings},
            ) from exc
    return result.xform, list(result.warnings)


def _local(tag: object) -> str:
    return str(tag).rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def parse_xform(xml: str) -> ParsedForm:
    try:
        root = ET.fromstring(xml)  # noqa: S314 - test inputs only
    except ET.ParseError as exc:
        # Central's SAX parser finds no <instance> root with an id in such a body.
        raise problems.missing("formId") from exc
    head = next(iter(_children(root, "head")), None)
    model = next(iter(_children(head, "model")), None) if head is not None else None
    instances = _children(model, "instance") if model is not None else []
    primary = next((i for i in instances if i.get("src") is None and len(i)), None)
    data = primary[0] if primary is not None else None
    if data is None or not (data.get("id") or "").strip():
        raise problems.missing("formId")
    title = next(iter(_children(head, "title")), None)
    parsed = ParsedForm(
        xml=xml,
        xml_form_id=data.get("id", ""),
        version=data.get("version") or "",
        name=(title.text or None) if title is not None else None,
    )
    parsed.attachments = _expected_attachments(root, model, instances, data)
    parsed.has_meta = any(_local(n.tag) == "meta" and len(n) for n in data.iter())
    parsed.entities = _entity_declarations(model, data)
    return parsed


def _entity_declarations(model: ET.Element, data: ET.Element) -> EntityDeclarations | None:
    """``<meta><entity dataset=...>`` blocks (with their path) and ``saveto`` binds."""
    datasets: list[tuple[str | None, str, list[str]]] = []

    def walk(node: ET.Element, path: str) -> None:
        for child in node:
            name = _local(child.tag)
            if name == "meta":
                for entity in _children(child, "entity"):
                    attrs = {_local(k): v for k, v in entity.attrib.items()}
                    actions = [a for a in ("create", "update") if a in attrs]
                    name = attrs.get("dataset")
                    datasets.append(
                        (name.strip() if name is not None else None, path + "/", actions)
                    )
            walk(child, f"{path}/{name}")

    walk(data, "")
    if not datasets:
        return None
    version = next((v for k, v in model.attrib.items() if _local(k) == "entities-version"), None)
    root_name = "/" + _local(data.tag)
    properties = []
    for bind in _children(model, "bind"):
        saveto = next((v for k, v in bind.attrib.items() if _local(k) == "saveto"), None)
        nodeset = bind.get("nodeset") or ""
        if saveto is not None and nodeset.startswith(root_name + "/"):
            properties.append((saveto.strip(), nodeset[len(root_name) :]))
    return EntityDeclarations(version, datasets, properties)


def _expected_attachments(
    root: ET.Element, model: ET.Element, instances: list[ET.Element], data: ET.Element
) -> dict[str, str]:
    found: dict[str, str] = {}
    for instance in instances:
        match = _JR_PATH.match((instance.get("src") or "").strip())
        if match and match.group(1) in ("file", "file-csv"):
            found.setdefault(match.group(2), "file")
    for itext in _children(model, "itext"):
        for value in itext.iter():
            media = _MEDIA_FORMS.get(value.get("form") or "")
            match = _JR_PATH.match((value.text or "").strip())
            if _local(value.tag) == "value" and media and match:
                found.setdefault(match.group(2), media)
    for node in data.iter():
        match = _JR_PATH.match((node.text or "").strip())
        if match and match.group(1) in _DEFAULT_TYPES:
            found.setdefault(match.group(2), _DEFAULT_TYPES[match.group(1)])
    body = next(iter(_children(root, "body")), None)
    if body is not None and any(
        _local(n.tag) == "input" and n.get("query") is not None for n in body.iter()
    ):
        found.setdefault("itemsets.csv", "file")
    return found
