"""The private TensorFlow, Keras and TFC APIs tfgc relies on, in one place,
with the versions they were checked against (BUILD.md, "Known pitfalls").

Importing this module checks the installed versions: a different one stops
tfgc here, naming this file, rather than somewhere deep in an export or a
decode. Moving a pin means re-checking each use below and then the
versions in `CHECKED`.
"""

import importlib.metadata

import tensorflow_compression as tfc
# Private to Keras 2.14: the switch that Model.save(save_traces=False)
# sets, here for tf.saved_model.save (an export traces every layer's call
# without it, twice the time).
from keras.src.saving.legacy.saved_model.utils import (  # noqa: F401
    keras_option_scope)

# Distribution name -> the version every use below was checked with.
CHECKED = {"tensorflow": "2.14.1", "keras": "2.14.0",
           "tensorflow-compression": "2.14.1"}


def check(installed):
  """ImportError naming this file unless `installed` (name -> version)
  has the CHECKED versions."""
  wrong = {name: installed.get(name) for name, version in CHECKED.items()
           if installed.get(name) != version}
  if wrong:
    found = ", ".join(f"{name} {version}" for name, version in wrong.items())
    wanted = ", ".join(f"{name} {CHECKED[name]}" for name in wrong)
    raise ImportError(
        f"tfgc relies on private APIs checked with {wanted}, found {found}: "
        "install the pinned requirements (make install), or re-check "
        "tfgc/pinned.py before moving a pin")


def _installed():
  versions = {}
  for name in CHECKED:
    try:
      versions[name] = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
      versions[name] = None
  return versions


check(_installed())


def flat_scale_indexes(model, scale_indexes):
  """A TFC indexed entropy model's scale indexes as its coder reads them
  (its private `_normalize_indexes` then `_flatten_indexes`)."""
  return model._flatten_indexes(  # pylint: disable=protected-access
      model._normalize_indexes(scale_indexes))  # pylint: disable=protected-access


def coding_tables(model):
  """The (cdf, cdf_offset) a TFC entropy model built with
  compression=True saved (private attributes of TFC 2.14 models)."""
  return (model._cdf,  # pylint: disable=protected-access
          model._cdf_offset)  # pylint: disable=protected-access


# TFC 2.14's hook that builds an indexed model's coding tables from its
# prior; `entropy.SupportIndexedGaussianModel` overrides it to put all the
# probability on the quantizer's centres.
BUILD_TABLES_HOOK = "_build_tables"
if not hasattr(tfc.LocationScaleIndexedEntropyModel, BUILD_TABLES_HOOK):
  raise ImportError(f"TFC's indexed entropy model has no "
                    f"{BUILD_TABLES_HOOK}: re-check tfgc/pinned.py")
