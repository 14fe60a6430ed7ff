"""Helpers that several test modules share (fixtures live in conftest.py):
`tfgc compress|decompress|info` in a subprocess and in this process, its
one-line failures, edited bitstreams."""

import dataclasses
import os
import subprocess
import sys

from conftest import REPO
from tfgc import bitstream
from tfgc.cli import compress


def cli(*args, timeout=600):
  """Runs `python -m tfgc ARGS` (the `tfgc` command) in a subprocess:
  (exit status, stdout, stderr); subprocess.TimeoutExpired after `timeout`
  seconds."""
  env = dict(os.environ, PYTHONPATH=REPO)
  result = subprocess.run([sys.executable, "-m", "tfgc", *args],
                          capture_output=True, text=True, env=env,
                          timeout=timeout)
  return result.returncode, result.stdout, result.stderr


def cli_here(capsys, *args):
  """`tfgc.cli.compress.main` in this process: (exit status, stdout,
  stderr)."""
  status = compress.main(list(args))
  stdout, stderr = capsys.readouterr()
  return status, stdout, stderr


def assert_clean_failure(status, stderr):
  """`tfgc` failed with one stderr line and no traceback."""
  assert status == 1
  assert "Traceback" not in stderr
  assert len(stderr.strip().splitlines()) == 1, stderr
  assert stderr.startswith("tfgc: ")


def with_sections(data, **replace):
  """`data` with sections replaced by index (`s0=b"..."`), CRC valid."""
  parsed = bitstream.parse(data)
  sections = list(parsed.sections)
  for key, value in replace.items():
    sections[int(key[1:])] = value
  return bitstream.serialize(dataclasses.replace(parsed,
                                                 sections=tuple(sections)))
