"""`python -m engines.artifacts.prepare`: compose.yaml's one-shot `artifacts` service. Gives the bind-mounted
artifacts directory, and everything in it but the archive, to the container user (PAPERFLEET_UID and
PAPERFLEET_GID), so that a fresh clone's `docker compose up` works with no setup step. It runs as root with
CHOWN as its only capability, and never follows a link (engines/artifacts/nofollow.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from engines.artifacts.nofollow import give_tree


def main() -> int:
    root = Path(os.environ.get("PAPERFLEET_ARTIFACTS", "/artifacts"))
    owner = (int(os.environ.get("PAPERFLEET_UID", "10001")), int(os.environ.get("PAPERFLEET_GID", "10001")))
    changed = give_tree(root, owner, skip=("archive",))
    print(f"artifacts: {root} belongs to {owner[0]}:{owner[1]} ({changed} entries given)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
