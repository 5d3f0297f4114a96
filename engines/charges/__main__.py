"""`python -m engines.charges ORDER [ORDER ...]`: see engines/charges/cli.py."""

from engines.charges.cli import main

raise SystemExit(main())
