#!/usr/bin/env python3
"""Install the Publish MDM Terraform provider into a filesystem mirror: one command.

    python3 infra/terraform/provider/install.py [--mirror DIR] [--venv DIR]

Needs only Python 3.11+ and ``uv`` (as for the rest of the repository). It
creates the provider's own locked environment (``--venv``, default ``.venv``
beside this file), then writes the provider into ``--mirror`` (default
``~/.terraform.d/plugins``, a directory Terraform searches without any CLI
configuration) in the packed layout:
``publishmdm.local/publishmdm/publishmdm/terraform-provider-publishmdm_0.1.0_<os>_<arch>.zip``.

The installed provider runs from that environment, so keep it (re-run this
after moving it). Terraform then finds the provider with either
``terraform init -plugin-dir=DIR`` or a CLI configuration such as::

    provider_installation {
      filesystem_mirror { path = "DIR"  include = ["publishmdm.local/*/*"] }
      direct { exclude = ["publishmdm.local/*/*"] }
    }
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def find_uv() -> str:
    """``uv`` from ``uv run`` (it sets UV), PATH, or the copy ``dev.py`` keeps in .data/tools."""
    candidates = [os.environ.get("UV", ""), shutil.which("uv") or ""]
    candidates.append(str(HERE.parents[2] / ".data" / "tools" / "bin" / "uv"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    sys.exit("uv is needed (pip install uv, or run `python3 dev.py test` once to fetch it).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mirror", type=Path, default=Path.home() / ".terraform.d" / "plugins")
    parser.add_argument("--venv", type=Path, default=HERE / ".venv")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    venv = args.venv.resolve()
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    quiet = ["--quiet"] if args.quiet else []
    subprocess.run(
        [
            find_uv(),
            "sync",
            "--frozen",
            "--no-dev",
            "--no-editable",
            "--compile-bytecode",
            "--project",
            str(HERE),
            *quiet,
        ],
        check=True,
        env=env,
    )
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    mirror = args.mirror.resolve()
    subprocess.run(
        [str(python), "-m", "publishmdm_provider.install", "--mirror", str(mirror)], check=True
    )
    if not args.quiet:
        print(f"Installed publishmdm.local/publishmdm/publishmdm 0.1.0 into {mirror}")
        print(f"Use: terraform init -plugin-dir={mirror}   (or a filesystem_mirror CLI config)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
