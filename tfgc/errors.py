"""The exception users see: one short message that names the fix."""


class TfgcError(Exception):
  """Base of every error tfgc reports to users (the CLI prints its text)."""
