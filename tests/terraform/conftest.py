"""Terraform tests: the real provider against the real control plane.

Everything Terraform and the provider write goes to temporary paths: ``HOME``
(``tf`` caches its gRPC certificate under ``~/.cache``), ``XDG_CACHE_HOME``,
``TF_CLI_CONFIG_FILE`` (this machine points it at a file that does not exist),
``TF_PLUGIN_CACHE_DIR`` and ``TF_DATA_DIR``. Nothing reaches a registry: the
provider is installed into a temporary filesystem mirror with the repository's
one-command installer and ``terraform init -plugin-dir`` reads only that.

Without a ``terraform`` binary (``TERRAFORM`` or on PATH) these tests are
skipped, saying so; nothing else in the suite needs Terraform.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.plugin import child_process_env

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra" / "terraform"


def terraform_binary() -> str | None:
    candidate = os.environ.get("TERRAFORM") or shutil.which("terraform")
    if candidate:
        return candidate
    fallback = Path("/usr/local/bin/terraform")
    return str(fallback) if fallback.exists() else None


@pytest.fixture(scope="session")
def terraform_bin() -> str:
    found = terraform_binary()
    if not found:
        pytest.skip(
            "Terraform is not installed (set TERRAFORM or put terraform on PATH); "
            "only the Terraform tests are skipped."
        )
    return found


@pytest.fixture(scope="session")
def tf_sandbox(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("terraform")


@pytest.fixture(scope="session")
def provider_mirror(tf_sandbox, terraform_bin) -> Path:
    """The provider installed by ``infra/terraform/provider/install.py`` into a temporary mirror."""
    mirror, venv = tf_sandbox / "mirror", tf_sandbox / "provider-venv"
    subprocess.run(
        [
            sys.executable,
            str(INFRA / "provider" / "install.py"),
            "--mirror",
            str(mirror),
            "--venv",
            str(venv),
            "--quiet",
        ],
        check=True,
        timeout=300,
    )
    return mirror


@pytest.fixture(scope="session")
def tf_env(tf_sandbox) -> dict[str, str]:
    home = tf_sandbox / "home"
    (home / ".cache").mkdir(parents=True, exist_ok=True)
    (tf_sandbox / "plugin-cache").mkdir(exist_ok=True)
    cli_config = tf_sandbox / "cli.tfrc"
    cli_config.write_text("# no provider_installation: init uses -plugin-dir\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TF_", "PUBLISHMDM_"))}
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        TF_CLI_CONFIG_FILE=str(cli_config),
        TF_PLUGIN_CACHE_DIR=str(tf_sandbox / "plugin-cache"),
        TF_IN_AUTOMATION="1",
        TF_INPUT="0",
        CHECKPOINT_DISABLE="1",  # no version check against HashiCorp's servers
    )
    return env


@dataclass
class Terraform:
    """``tf("apply", "-auto-approve")`` in one working directory with a private environment."""

    binary: str
    workdir: Path
    env: dict[str, str]
    log: list[str] = field(default_factory=list)

    def __call__(
        self, *args: str, check: bool = True, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        started = time.monotonic()
        result = subprocess.run(
            [self.binary, *args, "-no-color"],
            cwd=self.workdir,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        self.log.append(
            f"$ terraform {' '.join(args)}  ({time.monotonic() - started:.1f}s, exit {result.returncode})"
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"terraform {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def write_vars(self, organizations: dict) -> None:
        (self.workdir / "terraform.tfvars.json").write_text(
            json.dumps({"organizations": organizations}, indent=2)
        )

    def outputs(self) -> dict:
        return json.loads(self("output", "-json").stdout)


def copy_configuration(destination: Path) -> None:
    """modules/ and examples/ keep their relative layout (the example sources ../../modules)."""
    for part in ("modules", "examples"):
        shutil.copytree(
            INFRA / part,
            destination / part,
            ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"),
        )


@dataclass
class ControlPlane:
    url: str
    token: str


@pytest.fixture
def control_plane(live_server, transactional_db, tenant_schema_cleanup):
    """The application on a live server, a job worker process, and a platform token.

    The provider talks to ``http://<BASE_DOMAIN>:<port>``: ``*.localhost``
    names go to 127.0.0.1 with that ``Host`` header, which routes to the control plane.
    """
    from django.conf import settings

    from control_plane.accounts.services.platform_tokens import platform_token_create
    from control_plane.billing.services import plans_seed

    plans_seed()
    token = platform_token_create(name="terraform-tests", scopes=["organizations:write"]).secret
    env = child_process_env(SPARE_POOL_SIZE="0", EMAIL_URL="memorymail://", LOG_LEVEL="WARNING")
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "procrastinate", "worker", "--concurrency", "4"],
        cwd=ROOT,
        env=env,
    )
    try:
        yield ControlPlane(f"http://{settings.BASE_DOMAIN}:{live_server.thread.port}", token)
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.fixture
def terraform(terraform_bin, provider_mirror, tf_env, control_plane, tmp_path) -> Terraform:
    """A copy of infra/terraform, initialised offline, pointed at the live control plane."""
    copy_configuration(tmp_path)
    workdir = tmp_path / "examples" / "organizations"
    env = {
        **tf_env,
        "TF_DATA_DIR": str(workdir / ".terraform"),
        "PUBLISHMDM_URL": control_plane.url,
        "PUBLISHMDM_TOKEN": control_plane.token,
        "PUBLISHMDM_PROVISION_TIMEOUT": "120",
    }
    tf = Terraform(terraform_bin, workdir, env)
    tf("init", f"-plugin-dir={provider_mirror}", "-input=false")
    return tf
