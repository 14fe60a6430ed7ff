"""`python -m tfgc COMMAND ...` is the `tfgc` command (tfgc/cli)."""

import sys

from tfgc.cli import main

sys.exit(main())
