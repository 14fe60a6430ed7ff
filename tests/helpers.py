"""Helpers that several test modules share (fixtures live in conftest.py):
compress.py in this process, its one-line failures, edited bitstreams."""

import dataclasses

import compress
from tfgc import bitstream


def cli_here(capsys, *args):
  """compress.py's `main` in this process: (exit status, stdout, stderr)."""
  status = compress.main(list(args))
  stdout, stderr = capsys.readouterr()
  return status, stdout, stderr


def assert_clean_failure(status, stderr):
  """compress.py failed with one stderr line and no traceback."""
  assert status == 1
  assert "Traceback" not in stderr
  assert len(stderr.strip().splitlines()) == 1, stderr
  assert stderr.startswith("compress.py: ")


def with_sections(data, **replace):
  """`data` with sections replaced by index (`s0=b"..."`), CRC valid."""
  parsed = bitstream.parse(data)
  sections = list(parsed.sections)
  for key, value in replace.items():
    sections[int(key[1:])] = value
  return bitstream.serialize(dataclasses.replace(parsed,
                                                 sections=tuple(sections)))
