"""Write this provider into a Terraform filesystem mirror (called by ../install.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tf.runner import install_provider

from publishmdm_provider import HOSTNAME, NAMESPACE, TYPE, VERSION


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mirror", type=Path, required=True)
    args = parser.parse_args(argv)
    script = Path(sys.executable).parent / f"terraform-provider-{TYPE}"
    if not script.exists():
        print(f"{script} is missing: was the project installed into this environment?")
        return 1
    install_provider(HOSTNAME, NAMESPACE, TYPE, VERSION, args.mirror, script)
    return 0


if __name__ == "__main__":
    sys.exit(main())
