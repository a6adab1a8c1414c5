"""Offline checks of everything under infra/terraform: fmt, validate, ``terraform test``."""

from __future__ import annotations

import shutil

import pytest

from tests.terraform.conftest import INFRA, Terraform, copy_configuration

# Configurations whose providers are all this repository's (offline). The cloud
# module (modules/platform) needs the public registry's providers: fmt only.
OFFLINE_CONFIGURATIONS = ["modules/organization", "examples/organizations"]


def test_everything_is_formatted(terraform_bin, tf_env, tmp_path):
    result = Terraform(terraform_bin, INFRA, tf_env)(
        "fmt", "-check", "-recursive", "-diff", check=False
    )

    assert result.returncode == 0, f"terraform fmt would change:\n{result.stdout}"


@pytest.fixture(scope="module")
def initialised(terraform_bin, tf_env, provider_mirror, tmp_path_factory):
    """modules/ and examples/ copied and initialised once for this module's tests."""
    root = tmp_path_factory.mktemp("tfconfig")
    copy_configuration(root)
    made = {}
    for relative in OFFLINE_CONFIGURATIONS:
        workdir = root / relative
        env = {**tf_env, "TF_DATA_DIR": str(workdir / ".terraform")}
        tf = Terraform(terraform_bin, workdir, env)
        tf("init", "-backend=false", f"-plugin-dir={provider_mirror}", "-input=false")
        made[relative] = tf
    yield made
    shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize("relative", OFFLINE_CONFIGURATIONS)
def test_configuration_validates(initialised, relative):
    result = initialised[relative]("validate")

    assert "The configuration is valid" in result.stdout


def test_module_tests_pass(initialised):
    result = initialised["modules/organization"]("test")

    assert "0 failed" in result.stdout, result.stdout
