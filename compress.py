"""`python compress.py ...` is `tfgc compress|decompress|info ...`
(tfgc/cli/compress.py), for a checkout without `pip install`."""

import sys

from tfgc.cli import compress

if __name__ == "__main__":
  sys.exit(compress.main())
