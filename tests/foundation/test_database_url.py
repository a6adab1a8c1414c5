"""Processes we start reach the same database: settings → URL → settings gives it back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from control_plane.dburl import database_url

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.embedded

READ_BACK = (
    "import json, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'control_plane.settings';"
    "from django.conf import settings; d = settings.DATABASES['default'];"
    "print(json.dumps({k: d.get(k) for k in ('NAME', 'USER', 'PASSWORD', 'HOST', 'PORT')}))"
)


@pytest.mark.parametrize(
    "given",
    [
        # A server on TCP, with a password full of URL syntax.
        {
            "NAME": "test_pmdm",
            "USER": "app",
            "PASSWORD": "p@ss:w/rd?#%",
            "HOST": "127.0.0.1",
            "PORT": 5433,
        },
        # The embedded server: a Unix-socket directory (capitals and a space kept), no port.
        {
            "NAME": "test_publishmdm_gw1",
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": "/srv/My Data/.data/postgres",
            "PORT": "",
        },
        # A socket directory and an explicit port (the socket file's name carries it).
        {
            "NAME": "publishmdm",
            "USER": "postgres",
            "PASSWORD": "",
            "HOST": "/run/pg-sock",
            "PORT": 5432,
        },
    ],
    ids=["tcp", "socket", "socket-with-port"],
)
def test_settings_read_back_what_database_url_wrote(given):
    env = {
        **os.environ,
        "DATABASE_URL": database_url(given),
    }
    result = subprocess.run(
        [sys.executable, "-c", READ_BACK], env=env, capture_output=True, text=True, check=True
    )
    read = json.loads(result.stdout.strip().splitlines()[-1])

    assert read["NAME"] == given["NAME"]
    assert read["USER"] == given["USER"]
    assert read["PASSWORD"] == given["PASSWORD"]
    assert read["HOST"] == given["HOST"]
    assert str(read["PORT"] or "") == str(given["PORT"] or "")


def test_child_processes_get_this_process_database(db):
    """The helper every test subprocess uses points at the test database, not the dev one."""
    from django.db import connection

    from tests.plugin import child_process_env

    env = child_process_env()
    result = subprocess.run(
        [sys.executable, "-c", READ_BACK], env=env, capture_output=True, text=True, check=True
    )
    read = json.loads(result.stdout.strip().splitlines()[-1])
    assert read["NAME"] == connection.settings_dict["NAME"]
    assert read["HOST"] == connection.settings_dict["HOST"]
