"""`python train.py ...` is `tfgc train ...` (tfgc/cli/train.py), for a
checkout without `pip install`."""

import sys

from tfgc.cli import train

if __name__ == "__main__":
  sys.exit(train.main())
