"""argparse types of the command lines: values checked as they parse, so a
mistake gets argparse's one-line usage error."""

import argparse


def positive_int(text):
  """A whole number >= 1."""
  try:
    value = int(text)
  except ValueError:
    value = 0
  if value < 1:
    raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got "
                                     f"{text!r}")
  return value


def unit_interval(text):
  """A number in [0, 1] (a realism weight r)."""
  try:
    value = float(text)
  except ValueError:
    value = -1.0
  if not 0.0 <= value <= 1.0:
    raise argparse.ArgumentTypeError(f"must be a number in [0, 1], got "
                                     f"{text!r}")
  return value
