"""`python -m engines.kite.emulator`: see cli.py."""

import sys

from engines.kite.emulator.cli import main

sys.exit(main())
