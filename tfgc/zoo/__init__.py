"""The model zoo: the trained models shipped inside the package, found by
name, and `resolve` from a name or an export directory to a SavedModel.

Each is a folder here: a SavedModel export written by tfgc train (without its
`serving/1/` copy, see MODEL_CARD.md), its model.json and training.json,
and MODEL_CARD.md (data, training, measured dev-set figures). The card's
first lines carry the model id:

    **Model id:** `0123456789abcdef`
"""

import json
import os
import re

from tfgc.errors import TfgcError

DIR = os.path.dirname(os.path.abspath(__file__))
# The best GC model at or below 0.1 bpp on the dev set (see its card).
DEFAULT = "gc-small-c8"
CARD = "MODEL_CARD.md"
_CARD_ID = re.compile(r"^\*\*Model id:\*\* `([0-9a-f]{16})`$", re.MULTILINE)


def names():
  """Names of the bundled models, sorted."""
  if not os.path.isdir(DIR):
    return []
  return sorted(name for name in os.listdir(DIR)
                if os.path.exists(os.path.join(DIR, name, "saved_model.pb")))


def path(name):
  """The export directory of a bundled model (no check that it exists)."""
  return os.path.join(DIR, name)


def default():
  """The default model's name, or None if it is not bundled."""
  return DEFAULT if DEFAULT in names() else None


def card_model_id(name):
  """The model id written in the model's card (None without one)."""
  card = os.path.join(path(name), CARD)
  if not os.path.exists(card):
    return None
  with open(card) as f:
    match = _CARD_ID.search(f.read())
  return match.group(1) if match else None


def model_id(name):
  """The id recorded in the bundled model's model.json."""
  with open(os.path.join(path(name), "model.json")) as f:
    return json.load(f)["model_id"]


def find(identifier):
  """The bundled model with this id (a bitstream's), or None."""
  return next((name for name in names() if model_id(name) == identifier),
              None)


class ModelError(TfgcError):
  """The model cannot be found, loaded, or does not fit the bitstream."""


def resolve(model=None):
  """A model name or export directory -> the export directory."""
  if model is None:
    model = default()
    if model is None:
      raise ModelError(f"the default model {DEFAULT!r} is not installed "
                       f"in {DIR}; pass --model=DIR (an export_dir "
                       "written by tfgc train)")
  if os.path.isdir(model):
    directory = model
  elif model in names():
    directory = path(model)
  else:
    known = ", ".join(names()) or "none bundled"
    raise ModelError(f"no model {model!r}: give an export directory or a "
                     f"bundled model name ({known})")
  if not os.path.exists(os.path.join(directory, "saved_model.pb")):
    raise ModelError(f"{directory} is not a tfgc export (no saved_model.pb); "
                     "pass the export_dir written by tfgc train")
  return directory
