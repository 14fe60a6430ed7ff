"""TensorFlow's start-up chatter kept off tfgc's stderr.

Importing TensorFlow 2.14 on a machine without a GPU prints about nine
lines (oneDNN, "Could not find cuda drivers", three "Unable to register
cuDNN/cuFFT/cuBLAS factory" errors, CPU features, TensorRT) before any
work. `import tfgc` sets TF_CPP_MIN_LOG_LEVEL=3 if TensorFlow is not yet
imported and the variable is unset (set it to 0 first to see them); every
tfgc command calls `configure` before its first TensorFlow import, and
`--verbose` shows TensorFlow's lines again.
"""

import logging
import os
import sys

# TensorFlow's C++ log levels: 0 everything, 3 fatal only.
ALL, QUIET = "0", "3"
PYTHON_LOGGERS = ("tensorflow", "absl")


def default_to_quiet():
  """TF_CPP_MIN_LOG_LEVEL=3 unless the user set it or TensorFlow has
  already read it (imported)."""
  if "tensorflow" not in sys.modules:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", QUIET)


def configure(verbose):
  """A command's TensorFlow logging: its C++ lines (if TensorFlow is not
  imported yet) and its and absl's Python loggers, all shown when
  `verbose`, errors only otherwise."""
  if "tensorflow" not in sys.modules:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = ALL if verbose else QUIET
  for name in PYTHON_LOGGERS:
    logging.getLogger(name).setLevel(
        logging.INFO if verbose else logging.ERROR)


def wants_verbose(argv):
  """Whether a command line asks for --verbose (read before parsing, so
  that it can act before TensorFlow is imported)."""
  return "--verbose" in argv


def add_flag(parser):
  """--verbose on an argparse parser (`configure(args.verbose)` after
  parsing)."""
  parser.add_argument("--verbose", action="store_true",
                      help="also show TensorFlow's log lines")
