#!/usr/bin/env python
"""Benchmark: Terraform's provider against calling the control-plane API directly.

The same work both ways, on one running Publish MDM (daphne + a job worker,
as ``manage.py serve`` runs it): for ``--orgs`` organizations (default 20),

- **apply**: create each organization with a plan, wait until provisioning
  is ``active``, invite its owner;
- **destroy**: revoke each invitation, archive each organization.

*Direct* is a Python client doing exactly those calls from ``--parallelism``
threads (default 10, Terraform's own default), with the provider's HTTP client
(keep-alive, same polling schedule), so the difference is what Terraform and
the provider add: process start-ups, schema loading, refresh reads, the plan.
*Terraform* is ``terraform apply`` / ``terraform destroy`` of
``infra/terraform/examples/organizations`` (the organization module: one
organization and its owner invitation each) with the provider installed by
its one-command installer into a temporary filesystem mirror (offline).

Provisioning itself is the same in both: with ``--provisioning pool`` (the
default, production's path) each phase starts with ``--orgs`` ready spare
schemas, filled beforehand and not timed, so provisioning is a rename and the
provider's overhead is what is measured; ``--provisioning migrate`` migrates a
fresh schema per organization (the pool-empty fallback), which dominates.

Prints seconds per organization for each phase and the ratios; the target is
Terraform ≤ 2× direct for apply and for destroy (exit status 0 when met).

It runs in a database of its own, created and dropped here::

    uv run python -m benchmarks.terraform [--orgs 20] [--parallelism 10] \\
        [--provisioning pool|migrate] [--admin-url postgres://postgres@127.0.0.1:5432/postgres]

Without ``--admin-url``/``DATABASE_URL`` it runs on the embedded PostgreSQL.

Needs ``terraform`` (``TERRAFORM``, PATH or /usr/local/bin) and ``uv``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
INFRA = ROOT / "infra" / "terraform"
TARGET_RATIO = 2.0
POLL_FIRST, POLL_MAX = 0.1, 2.0  # the provider's schedule (publishmdm_provider.organization)


def provider_client_module() -> ModuleType:
    """The provider's HTTP client module (stdlib and urllib3 only), loaded from its file.

    The provider is a project of its own with its own environment (``tf`` pins
    protobuf/grpcio), so it is not installed here; its client needs nothing of it.
    """
    path = INFRA / "provider" / "publishmdm_provider" / "client.py"
    spec = importlib.util.spec_from_file_location("publishmdm_provider_client", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


def terraform_binary() -> str | None:
    found = os.environ.get("TERRAFORM") or shutil.which("terraform")
    if found:
        return found
    return "/usr/local/bin/terraform" if Path("/usr/local/bin/terraform").exists() else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def psql(admin_url: str, sql: str) -> None:
    """Run one statement (CREATE/DROP DATABASE) with psycopg: no psql binary needed."""
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql)


def default_admin_url() -> str:
    """``BENCH_ADMIN_URL``, else the ``postgres`` database of DATABASE_URL's server, else of
    the embedded PostgreSQL (started here when DATABASE_URL is unset, as manage.py does)."""
    if os.environ.get("BENCH_ADMIN_URL"):
        return os.environ["BENCH_ADMIN_URL"]
    url = os.environ.get("DATABASE_URL")
    if not url:
        from control_plane.embedded_db import ensure_database

        url = ensure_database()
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(url)._replace(path="/postgres", query=""))


def manage(env: dict[str, str], *args: str, capture: bool = False) -> str:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=capture,
        text=True,
    )
    return result.stdout if capture else ""


def wait_healthy(url: str, timeout: float = 60) -> None:
    client = provider_client_module().Client(url, "none")
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = client._pool.urlopen("GET", "/healthz")
            if response.status == 200:
                return
        except Exception:  # noqa: BLE001,S110 - not up yet
            pass
        if time.monotonic() > deadline:
            raise SystemExit("the server did not come up")
        time.sleep(0.3)


# --- the direct client --------------------------------------------------------------------


def direct_apply_one(client, slug: str) -> None:
    client.post("/organizations/", {"slug": slug, "name": f"Bench {slug}", "plan": "team"})
    delay = POLL_FIRST
    while (status := client.get(f"/organizations/{slug}/")["status"]) != "active":
        if status == "failed":
            raise RuntimeError(f"{slug} failed to provision")
        time.sleep(delay)
        delay = min(delay * 1.5, POLL_MAX)
    invitation = client.post(
        f"/organizations/{slug}/invitations/",
        {"email": f"owner@{slug}.example.org", "role": "owner"},
    )
    direct_apply_one.invitations[slug] = invitation["id"]


direct_apply_one.invitations = {}


def direct_destroy_one(client, slug: str) -> None:
    invitation_id = direct_apply_one.invitations[slug]
    client.delete(f"/organizations/{slug}/invitations/{invitation_id}/")
    client.post(f"/organizations/{slug}/archive/", {"confirm": False})


def timed_pool(fn, client, slugs: list[str], parallelism: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(parallelism) as pool:
        for future in [pool.submit(fn, client, slug) for slug in slugs]:
            future.result()
    return time.perf_counter() - started


# --- Terraform --------------------------------------------------------------------------------


def terraform_env(sandbox: Path, url: str, token: str) -> dict[str, str]:
    home = sandbox / "home"
    (home / ".cache").mkdir(parents=True, exist_ok=True)
    cli = sandbox / "cli.tfrc"
    cli.write_text("")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PUBLISHMDM_"))}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        TF_CLI_CONFIG_FILE=str(cli),
        TF_PLUGIN_CACHE_DIR=str(sandbox / "plugin-cache"),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",
        PUBLISHMDM_URL=url,
        PUBLISHMDM_TOKEN=token,
    )
    (sandbox / "plugin-cache").mkdir(exist_ok=True)
    return env


def run_terraform(binary: str, workdir: Path, env: dict[str, str], *args: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [binary, *args, "-no-color"], cwd=workdir, env=env, capture_output=True, text=True
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"terraform {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return elapsed


# --- main ----------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--orgs", type=int, default=20)
    parser.add_argument("--parallelism", type=int, default=10)
    parser.add_argument("--provisioning", choices=["pool", "migrate"], default="pool")
    parser.add_argument(
        "--tf-log", type=Path, help="Write Terraform's debug log (provider starts, RPCs) here."
    )
    parser.add_argument(
        "--admin-url",
        help="A database URL allowed to CREATE and DROP DATABASE (default: BENCH_ADMIN_URL, "
        "else DATABASE_URL's server, else the embedded PostgreSQL).",
    )
    args = parser.parse_args()
    args.admin_url = args.admin_url or default_admin_url()
    binary = terraform_binary()
    if binary is None:
        print("terraform not found (set TERRAFORM); nothing measured.")
        return 2
    Client = provider_client_module().Client

    run_id = secrets.token_hex(3)
    database = f"pmdm_bench_tf_{run_id}"
    parts = urllib.parse.urlsplit(args.admin_url)
    database_url = urllib.parse.urlunsplit(parts._replace(path=f"/{database}"))
    sandbox = Path(tempfile.mkdtemp(prefix="pmdm-bench-tf-"))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "SPARE_POOL_SIZE": "0",  # no background refills competing with the measurement
        "EMAIL_URL": "memorymail://",
        "LOG_LEVEL": "WARNING",
        "MEDIA_ROOT": str(sandbox / "media"),
        "BASE_DOMAIN": "publishmdm.localhost",
        "PUBLIC_PORT": str(port),
    }
    url = f"http://publishmdm.localhost:{port}"
    psql(args.admin_url, f"CREATE DATABASE {database}")
    server = None
    try:
        setup_started = time.perf_counter()
        manage(env, "migrate_tenants")
        token = manage(
            env,
            "platform_token_create",
            "bench",
            "--scope",
            "organizations:write",
            "--quiet-token",
            capture=True,
        ).strip()
        server = subprocess.Popen(
            [sys.executable, str(ROOT / "manage.py"), "serve", "--no-migrate", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_healthy(url)
        subprocess.run(
            [
                sys.executable,
                str(INFRA / "provider" / "install.py"),
                "--quiet",
                "--mirror",
                str(sandbox / "mirror"),
                "--venv",
                str(sandbox / "venv"),
            ],
            check=True,
        )
        for part in ("modules", "examples"):
            shutil.copytree(INFRA / part, sandbox / "config" / part)
        workdir = sandbox / "config" / "examples" / "organizations"
        tf_env = terraform_env(sandbox, url, token)
        if args.tf_log:
            tf_env.update(TF_LOG="debug", TF_LOG_PATH=str(args.tf_log.resolve()))
        n = args.orgs
        print(
            f"setup (database, migrations, server, provider install): "
            f"{time.perf_counter() - setup_started:.1f}s"
        )

        def fill_pool() -> None:
            if args.provisioning == "pool":
                started = time.perf_counter()
                manage(env, "spare_pool", "--fill", str(n), capture=True)
                print(
                    f"  filled the spare pool with {n} schemas in {time.perf_counter() - started:.1f}s (not timed)"
                )

        # Direct -----------------------------------------------------------------------
        client = Client(url, token)
        direct_slugs = [f"bench-d{run_id}-{i:02d}" for i in range(n)]
        fill_pool()
        direct_apply = timed_pool(direct_apply_one, client, direct_slugs, args.parallelism)
        direct_destroy = timed_pool(direct_destroy_one, client, direct_slugs, args.parallelism)
        print(f"direct:    apply {direct_apply:.2f}s, destroy {direct_destroy:.2f}s")

        # Terraform ----------------------------------------------------------------------
        organizations = {
            f"bench-t{run_id}-{i:02d}": {
                "name": f"Bench {i}",
                "plan": "team",
                "owner_email": f"owner{i}@bench.example.org",
            }
            for i in range(n)
        }
        (workdir / "terraform.tfvars.json").write_text(json.dumps({"organizations": organizations}))
        init = run_terraform(binary, workdir, tf_env, "init", f"-plugin-dir={sandbox / 'mirror'}")
        fill_pool()
        parallel = f"-parallelism={args.parallelism}"
        tf_apply = run_terraform(binary, workdir, tf_env, "apply", "-auto-approve", parallel)
        tf_destroy = run_terraform(binary, workdir, tf_env, "destroy", "-auto-approve", parallel)
        print(
            f"terraform: init {init:.2f}s (once, not counted), apply {tf_apply:.2f}s, "
            f"destroy {tf_destroy:.2f}s"
        )

        apply_ratio, destroy_ratio = tf_apply / direct_apply, tf_destroy / direct_destroy
        print()
        print(
            f"{n} organizations, parallelism {args.parallelism}, provisioning: {args.provisioning}"
        )
        print(f"{'':10}{'direct s/org':>14}{'terraform s/org':>17}{'ratio':>8}")
        print(f"{'apply':10}{direct_apply / n:>14.3f}{tf_apply / n:>17.3f}{apply_ratio:>7.2f}x")
        print(
            f"{'destroy':10}{direct_destroy / n:>14.3f}{tf_destroy / n:>17.3f}{destroy_ratio:>7.2f}x"
        )
        met = apply_ratio <= TARGET_RATIO and destroy_ratio <= TARGET_RATIO
        print(f"target: terraform ≤ {TARGET_RATIO:.0f}x direct — {'met' if met else 'NOT met'}")
        return 0 if met else 1
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        psql(args.admin_url, f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        shutil.rmtree(sandbox, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
