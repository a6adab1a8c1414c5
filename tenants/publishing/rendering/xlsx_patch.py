"""Write a variant's .xlsx by patching only the cells that differ from the template.

A stored variant is what its author downloads, so it should be their workbook (styles,
widths, frozen panes, notes sheets, comments) with only the variant's cells changed.
Loading and saving with openpyxl would lose some of that and costs tens of
milliseconds per variant; instead the template's zip is opened once, and per variant
the changed cells are spliced into the sheet XML text as inline strings (so
``sharedStrings.xml`` stays as it was), and a missing ``settings`` sheet is added as a
new part. Unchanged parts are copied byte for byte.

Anything unusual (no ``r=`` references on rows or cells, prefixed SpreadsheetML, a
changed cell holding a formula) falls back to openpyxl: slower, still correct.
"""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import openpyxl
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from control_plane.archives import check_zip

CellEdits = dict[tuple[int, int], str]  # (1-based row, 0-based column) -> text

_NS_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_WORKSHEET_TYPE = _NS_REL + "/worksheet"
_WORKSHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_EMPTY_SHEET = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    "<sheetData/></worksheet>"
)
_RE_SHEET_DATA = re.compile(r"<sheetData\s*/>|<sheetData>(.*?)</sheetData>", re.S)
_RE_ROW = re.compile(r"<row\b([^>]*?)(/>|>(.*?)</row>)", re.S)
_RE_CELL = re.compile(r"<c\b([^>]*?)(/>|>(.*?)</c>)", re.S)
_RE_ROW_R = re.compile(r'\br="(\d+)"')
_RE_CELL_R = re.compile(r'\br="([A-Z]{1,3})(\d+)"')
_RE_STYLE = re.compile(r'\bs="(\d+)"')
_RE_SPANS = re.compile(r'\s+spans="[^"]*"')
_RE_DIMENSION = re.compile(r'<dimension\s+ref="([^"]*)"\s*/>')
_RE_SHEET_EL = re.compile(r"<sheet\b[^>]*/>")
_RE_ATTR = re.compile(r'([\w:]+)="([^"]*)"')
_RE_REL = re.compile(r"<Relationship\b[^>]*/>")


class CannotPatch(Exception):
    """The workbook's XML is not in a shape this module edits safely."""


@dataclass(frozen=True, slots=True)
class XlsxTemplate:
    """The template's zip, split once into parts."""

    members: tuple[tuple[zipfile.ZipInfo, bytes], ...]
    sheet_parts: dict[str, str]  # sheet title -> part name in the zip


def _attrs(element: str) -> dict[str, str]:
    return dict(_RE_ATTR.findall(element))


def _unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    )


def prepare(data: bytes) -> XlsxTemplate | None:
    """Split the template's zip once; None when its structure is not one we patch.

    Raises ``ArchiveRefused`` for a workbook too large when unpacked: members
    are read whole below, so they are measured first.
    """
    try:
        check_zip(data)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = tuple((info, archive.read(info)) for info in archive.infolist())
        parts = {info.filename: body for info, body in members}
        workbook = parts["xl/workbook.xml"].decode("utf-8")
        rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return None
    targets = {}
    for rel in _RE_REL.findall(rels):
        attrs = _attrs(rel)
        target = attrs.get("Target", "")
        target = target[1:] if target.startswith("/") else posixpath.join("xl", target)
        targets[attrs.get("Id")] = posixpath.normpath(target)
    sheet_parts = {}
    for element in _RE_SHEET_EL.findall(workbook):
        attrs = _attrs(element)
        rel_id = next((v for k, v in attrs.items() if k.endswith(":id")), None)
        part = targets.get(rel_id)
        if "name" not in attrs or part not in parts:
            return None
        sheet_parts[_unescape(attrs["name"])] = part
    return XlsxTemplate(members=members, sheet_parts=sheet_parts)


def _cell_xml(ref: str, text: str, style: str | None) -> str:
    style_attr = f' s="{style}"' if style else ""
    return (
        f'<c r="{ref}"{style_attr} t="inlineStr"><is><t xml:space="preserve">'
        f"{escape(text)}</t></is></c>"
    )


def _patch_row(row_no: int, attrs: str, body: str, edits: dict[int, str]) -> str:
    """One <row> with ``edits`` (column -> text) applied, cells kept in column order."""
    pieces: list[tuple[int, str]] = []
    for cell in _RE_CELL.finditer(body):
        ref = _RE_CELL_R.search(cell.group(1))
        if not ref or int(ref.group(2)) != row_no:
            raise CannotPatch("cell without a reference")
        column = column_index_from_string(ref.group(1)) - 1
        if column in edits:
            if "<f" in (cell.group(3) or ""):
                raise CannotPatch("formula in a changed cell")
            style = _RE_STYLE.search(cell.group(1))
            text = edits.pop(column)
            pieces.append((column, _cell_xml(ref.group(0)[3:-1], text, style and style.group(1))))
        else:
            pieces.append((column, cell.group(0)))
    for column, text in edits.items():
        pieces.append((column, _cell_xml(f"{get_column_letter(column + 1)}{row_no}", text, None)))
    pieces.sort(key=lambda item: item[0])
    return f"<row{_RE_SPANS.sub('', attrs)}>{''.join(p for _, p in pieces)}</row>"


def patch_sheet(xml: str, edits: CellEdits) -> str:
    """Return the worksheet XML with ``edits`` applied."""
    by_row: dict[int, dict[int, str]] = {}
    for (row_no, column), text in edits.items():
        by_row.setdefault(row_no, {})[column] = text
    found = _RE_SHEET_DATA.search(xml)
    if not found:
        raise CannotPatch("no sheetData")
    rows: list[tuple[int, str]] = []
    for row in _RE_ROW.finditer(found.group(1) or ""):
        ref = _RE_ROW_R.search(row.group(1))
        if not ref:
            raise CannotPatch("row without a reference")
        row_no = int(ref.group(1))
        if row_no in by_row:
            rows.append(
                (row_no, _patch_row(row_no, row.group(1), row.group(3) or "", by_row.pop(row_no)))
            )
        else:
            rows.append((row_no, row.group(0)))
    for row_no, cells in by_row.items():
        rows.append((row_no, _patch_row(row_no, f' r="{row_no}"', "", cells)))
    rows.sort(key=lambda item: item[0])
    sheet_data = f"<sheetData>{''.join(r for _, r in rows)}</sheetData>"
    xml = xml[: found.start()] + sheet_data + xml[found.end() :]
    return _widen_dimension(xml, edits)


def _widen_dimension(xml: str, edits: CellEdits) -> str:
    """Keep <dimension> covering every cell: openpyxl's read-only mode trusts it."""
    found = _RE_DIMENSION.search(xml)
    if not found or not edits:
        return xml
    max_row = max(r for r, _ in edits)
    max_col = max(c for _, c in edits) + 1
    ref = found.group(1).split(":")[-1]
    match = re.fullmatch(r"([A-Z]{1,3})(\d+)", ref)
    if match:
        max_row = max(max_row, int(match.group(2)))
        max_col = max(max_col, column_index_from_string(match.group(1)))
    start = found.group(1).split(":")[0] if ":" in found.group(1) else "A1"
    new = f'<dimension ref="{start}:{get_column_letter(max_col)}{max_row}"/>'
    return xml[: found.start()] + new + xml[found.end() :]


def _add_sheet(parts: dict[str, bytes], order: list[str], title: str, xml: str) -> None:
    """Register a new worksheet part in the workbook, its relationships and content types."""
    n = 1
    while f"xl/worksheets/sheet{n}.xml" in parts:
        n += 1
    part = f"xl/worksheets/sheet{n}.xml"
    rel_id = "rIdPublishMdm1"
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    prefix = re.search(r'xmlns:(\w+)="' + re.escape(_NS_REL) + '"', workbook)
    if not prefix or "</sheets>" not in workbook:
        raise CannotPatch("workbook.xml without a relationships prefix")
    ids = [int(i) for i in re.findall(r'<sheet\b[^>]*\bsheetId="(\d+)"', workbook)]
    element = (
        f'<sheet name={quoteattr(title)} sheetId="{max(ids, default=0) + 1}" '
        f'{prefix.group(1)}:id="{rel_id}"/>'
    )
    parts["xl/workbook.xml"] = workbook.replace("</sheets>", element + "</sheets>", 1).encode()
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    rel = f'<Relationship Id="{rel_id}" Type="{_WORKSHEET_TYPE}" Target="/{part}"/>'
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>", rel + "</Relationships>", 1
    ).encode()
    types = parts["[Content_Types].xml"].decode("utf-8")
    override = f'<Override PartName="/{part}" ContentType="{_WORKSHEET_CT}"/>'
    parts["[Content_Types].xml"] = types.replace("</Types>", override + "</Types>", 1).encode()
    parts[part] = xml.encode("utf-8")
    order.append(part)


def write(
    data: bytes,
    template: XlsxTemplate | None,
    edits: dict[str, CellEdits],
    new_sheets: dict[str, CellEdits],
    renames: dict[str, str] | None = None,
) -> bytes:
    """The template with ``edits`` (by sheet title) applied, ``new_sheets`` appended and
    sheets renamed (old title -> new). The same inputs always give the same bytes."""
    renames = renames or {}
    if template is not None:
        try:
            return _write_patched(template, edits, new_sheets, renames)
        except (CannotPatch, KeyError, UnicodeDecodeError):
            pass
    return _write_with_openpyxl(data, edits, new_sheets, renames)


def _rename_sheet(parts: dict[str, bytes], old: str, new: str) -> None:
    workbook = parts["xl/workbook.xml"].decode("utf-8")
    for element in _RE_SHEET_EL.findall(workbook):
        if _unescape(_attrs(element).get("name", "")) == old:
            renamed = re.sub(
                r'\bname="[^"]*"', lambda _: f"name={quoteattr(new)}", element, count=1
            )
            parts["xl/workbook.xml"] = workbook.replace(element, renamed, 1).encode("utf-8")
            return
    raise CannotPatch(f"no sheet named {old!r}")


def _write_patched(
    template: XlsxTemplate,
    edits: dict[str, CellEdits],
    new_sheets: dict[str, CellEdits],
    renames: dict[str, str],
) -> bytes:
    parts = {info.filename: body for info, body in template.members}
    order = [info.filename for info, _ in template.members]
    for title, cells in edits.items():
        part = template.sheet_parts[title]
        parts[part] = patch_sheet(parts[part].decode("utf-8"), cells).encode("utf-8")
    for title, cells in new_sheets.items():
        _add_sheet(parts, order, title, patch_sheet(_EMPTY_SHEET, cells))
    for old, new in renames.items():
        _rename_sheet(parts, old, new)
    infos = {info.filename: info for info, _ in template.members}
    stamp = template.members[0][0].date_time  # new parts: a fixed time, for stable bytes
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name in order:
            info = zipfile.ZipInfo(
                name, date_time=infos[name].date_time if name in infos else stamp
            )
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, parts[name])
    return out.getvalue()


def _write_with_openpyxl(
    data: bytes,
    edits: dict[str, CellEdits],
    new_sheets: dict[str, CellEdits],
    renames: dict[str, str],
) -> bytes:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    for title, cells in [*edits.items(), *new_sheets.items()]:
        sheet = workbook[title] if title in workbook.sheetnames else workbook.create_sheet(title)
        for (row, column), text in cells.items():
            sheet.cell(row=row, column=column + 1, value=text).data_type = "s"
    for old, new in renames.items():
        workbook[old].title = new
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
