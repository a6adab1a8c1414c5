"""Zip archives from outside (.xlsx workbooks), checked before anything opens them.

A 2 MB .xlsx can hold a member that unpacks to gigabytes, and openpyxl,
pyxform and our own patcher unpack members whole (DESIGN.md §7). Every
workbook that arrives (uploads, Google exports, stored sources read by a
job, app-user imports) goes through :func:`check_zip` first, which refuses,
before a member is opened elsewhere:

- more members than ``XLSX_MAX_MEMBERS`` (counted from the end-of-archive
  record, before the central directory is parsed);
- a total, or any member's, unpacked size above ``XLSX_MAX_UNPACKED_BYTES``,
  as declared in the directory *and* as actually inflated: each member is
  read in chunks and the count stops at the cap, so a member that lies about
  its size costs at most the cap;
- a compression ratio above ``XLSX_MAX_RATIO`` (for members and totals large
  enough for a ratio to mean something).

Pure Python (settings are read if Django is configured), so the rendering
package can call it in worker processes and benchmarks alike.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from typing import BinaryIO

MIB = 1024 * 1024
_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 65535
_CHUNK = 64 * 1024
# Below this many unpacked bytes a high ratio is harmless (a tiny XML part of
# repeated tags compresses 100:1 and means nothing).
_RATIO_FLOOR = 1 * MIB
# Room per member in the central directory: a fixed 46-byte header plus the
# name and extra fields; xlsx part names are short.
_DIRECTORY_BYTES_PER_MEMBER = 1024


class ArchiveRefused(ValueError):
    """The archive is refused before it is opened; ``message`` says why, for people."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class ArchiveLimits:
    max_members: int = 1000
    max_unpacked_bytes: int = 50 * MIB
    max_ratio: float = 200.0

    @classmethod
    def from_settings(cls) -> ArchiveLimits:
        try:
            from django.conf import settings

            if not settings.configured:
                return cls()
        except ImportError:  # pragma: no cover - always installed here
            return cls()
        default = cls()
        return cls(
            max_members=getattr(settings, "XLSX_MAX_MEMBERS", default.max_members),
            max_unpacked_bytes=getattr(
                settings, "XLSX_MAX_UNPACKED_BYTES", default.max_unpacked_bytes
            ),
            max_ratio=getattr(settings, "XLSX_MAX_RATIO", default.max_ratio),
        )


def too_large_message(limits: ArchiveLimits, what: str = "workbook") -> str:
    size = limits.max_unpacked_bytes
    amount = f"{size // MIB} MB" if size >= MIB else f"{size} bytes"
    return f"The {what} is too large when unpacked (over {amount})."


def check_zip(
    data: bytes | BinaryIO, *, limits: ArchiveLimits | None = None, what: str = "workbook"
) -> None:
    """Raise ``ArchiveRefused`` for an archive too big to unpack, ``zipfile.BadZipFile``
    for one that is not a zip at all. Returns None when every check passes."""
    limits = limits or ArchiveLimits.from_settings()
    handle = io.BytesIO(data) if isinstance(data, bytes | bytearray | memoryview) else data
    packed_size = handle.seek(0, io.SEEK_END)
    _check_directory(handle, packed_size, limits, what)
    handle.seek(0)
    try:
        _check_members(handle, packed_size, limits, what)
    except (RuntimeError, NotImplementedError, EOFError, zlib.error) as exc:
        # Encrypted members, unknown compression methods, damaged streams.
        raise zipfile.BadZipFile(f"{type(exc).__name__}: {exc}") from None


def _check_members(handle: BinaryIO, packed_size: int, limits: ArchiveLimits, what: str) -> None:
    with zipfile.ZipFile(handle) as archive:
        members = archive.infolist()
        if len(members) > limits.max_members:
            raise ArchiveRefused(_too_many(limits, what))
        declared = 0
        for info in members:
            declared += info.file_size
            if declared > limits.max_unpacked_bytes:
                raise ArchiveRefused(too_large_message(limits, what))
            _check_ratio(info.file_size, info.compress_size, limits, what)
        _check_ratio(declared, packed_size, limits, what)
        budget = limits.max_unpacked_bytes
        for info in members:
            budget -= _inflated_size(archive, info, budget, limits, what)


def _too_many(limits: ArchiveLimits, what: str) -> str:
    return f"The {what} has too many parts (over {limits.max_members})."


def _check_directory(handle: BinaryIO, size: int, limits: ArchiveLimits, what: str) -> None:
    """Member count and directory size from the end record, before zipfile parses it all."""
    tail_length = min(size, _EOCD_SIZE + _MAX_COMMENT)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < _EOCD_SIZE:
        return  # not a zip: zipfile says so, with its own message
    fields = struct.unpack("<4s4H2LH", tail[at : at + _EOCD_SIZE])
    entries, directory_size = max(fields[3], fields[4]), fields[5]
    if entries == 0xFFFF or directory_size == 0xFFFFFFFF:
        # Zip64: only needed past 65 535 members or 4 GB, far beyond a workbook.
        raise ArchiveRefused(_too_many(limits, what))
    if entries > limits.max_members:
        raise ArchiveRefused(_too_many(limits, what))
    if directory_size > limits.max_members * _DIRECTORY_BYTES_PER_MEMBER:
        raise ArchiveRefused(_too_many(limits, what))


def _check_ratio(unpacked: int, packed: int, limits: ArchiveLimits, what: str) -> None:
    if unpacked > _RATIO_FLOOR and unpacked > limits.max_ratio * max(packed, 1):
        raise ArchiveRefused(
            f"The {what} is refused: it unpacks to more than {limits.max_ratio:g} times its "
            "packed size, which no real spreadsheet does."
        )


def _inflated_size(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, budget: int, limits: ArchiveLimits, what: str
) -> int:
    """Inflate one member in chunks, counting; stop at the budget left for the archive."""
    count = 0
    with archive.open(info) as member:
        while chunk := member.read(_CHUNK):
            count += len(chunk)
            if count > budget:
                raise ArchiveRefused(too_large_message(limits, what))
    _check_ratio(count, info.compress_size, limits, what)
    return count
