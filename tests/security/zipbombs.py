"""Zip bombs for the archive tests, built in milliseconds.

A member of N MiB of zeros is one deflate segment (1 MiB of zeros, ended
with a full flush so that it refers to nothing before it) repeated N times:
2 GiB pack into about 2 MB without ever existing in memory. Archives are
written by hand (local headers, central directory, end record), so a member
can also *declare* a size other than the one it inflates to.
"""

from __future__ import annotations

import functools
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

from tests.xlsforms import make_xlsform

MIB = 1024 * 1024


@dataclass(frozen=True)
class Member:
    name: str
    packed: bytes  # raw deflate stream
    crc: int
    size: int  # actual unpacked size
    declared: int | None = None  # size written in the headers (default: the actual one)


def deflated(name: str, data: bytes) -> Member:
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Member(name, packer.compress(data) + packer.flush(), zlib.crc32(data), len(data))


@functools.cache
def _zero_segments() -> tuple[bytes, bytes, int]:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = packer.compress(bytes(MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    repeat = packer.compress(bytes(MIB)) + packer.flush(zlib.Z_FULL_FLUSH)
    return first, repeat, packer.flush()


@functools.cache
def _zeros_crc(mib: int) -> int:
    crc, block = 0, bytes(MIB)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    return crc


def zeros(name: str, mib: int, *, declared: int | None = None) -> Member:
    """``mib`` MiB of zeros, packed about 1000:1."""
    first, repeat, end = _zero_segments()
    return Member(name, first + repeat * (mib - 1) + end, _zeros_crc(mib), mib * MIB, declared)


def archive(members: list[Member]) -> bytes:
    out = io.BytesIO()
    directory = []
    for member in members:
        name = member.name.encode()
        declared = member.size if member.declared is None else member.declared
        offset = out.tell()
        fields = (20, 0, zipfile.ZIP_DEFLATED, 0, 0x21, member.crc, len(member.packed), declared)
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, len(name), 0))
        out.write(name)
        out.write(member.packed)
        directory.append((name, fields, offset))
    start = out.tell()
    for name, fields, offset in directory:
        out.write(
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, len(name), 0, 0, 0, 0, 0, offset)
        )
        out.write(name)
    size = out.tell() - start
    out.write(
        struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members), size, start, 0)
    )
    return out.getvalue()


@functools.cache
def workbook_members() -> tuple[Member, ...]:
    """The parts of a small, valid XLSForm (so that only the bomb is wrong)."""
    data = make_xlsform(
        [{"type": "text", "name": "q1", "label": "Q1"}],
        settings={"form_title": "Bomb", "form_id": "bomb"},
    )
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        return tuple(deflated(info.filename, source.read(info)) for info in source.infolist())


def workbook_with(*extra: Member, replace: str | None = None) -> bytes:
    """A valid XLSForm plus ``extra`` members (``replace``: drop the part of that name)."""
    kept = [m for m in workbook_members() if m.name != replace]
    return archive([*kept, *extra])


def honest_bomb(mib: int = 2048) -> bytes:
    """A workbook whose extra part declares and holds ``mib`` MiB."""
    return workbook_with(zeros("xl/media/image1.png", mib))


def lying_bomb(mib: int = 2048) -> bytes:
    """The survey sheet declares 4 KiB but inflates to ``mib`` MiB."""
    return workbook_with(
        zeros("xl/worksheets/sheet1.xml", mib, declared=4096), replace="xl/worksheets/sheet1.xml"
    )


def many_members(count: int) -> bytes:
    return workbook_with(*(deflated(f"xl/media/part{i}.bin", b"x") for i in range(count)))
