"""Shared fixtures: tiny models, small real photos, subprocess helpers."""

import os
import subprocess
import sys

import numpy as np
import pytest
import skimage.data
from PIL import Image

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="session")
def photo():
  """A real photo (scikit-image's astronaut), uint8 [512, 512, 3]."""
  return skimage.data.astronaut()


@pytest.fixture(scope="session")
def small_photo(photo):
  """A 64x64 crop of the astronaut's face: uint8 [64, 64, 3]."""
  return np.ascontiguousarray(photo[80:208:2, 170:298:2])


@pytest.fixture(scope="session")
def photos(tmp_path_factory, photo):
  """A folder of training photos for tiny runs: three usable images (one in
  a subfolder; PNG, JPEG, WebP), plus a corrupt file and a 20 px one."""
  folder = tmp_path_factory.mktemp("photos")
  (folder / "nested").mkdir()
  Image.fromarray(photo[:96, :96]).save(folder / "real.png")
  Image.fromarray(photo[200:264, 100:180]).save(folder / "nested" / "b.jpg")
  gradient = np.linspace(0, 255, 64 * 48 * 3).reshape(48, 64, 3)
  Image.fromarray(gradient.astype(np.uint8)).save(folder / "gradient.webp")
  Image.fromarray(photo[:20, :20]).save(folder / "small.png")
  (folder / "corrupt.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg")
  return folder


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory):
  """An untrained `tiny` GC model exported once per session: its path."""
  from tfgc import export
  from tfgc.config import preset
  from tfgc.model import GenerativeCompressionModel
  import tensorflow as tf
  tf.keras.utils.set_random_seed(1)
  path = str(tmp_path_factory.mktemp("tiny_export"))
  export.export(GenerativeCompressionModel(preset("tiny")), path)
  return path


def run_python(code, *args, check=True, timeout=600):
  """Runs `code` in a fresh Python process; returns the CompletedProcess
  (subprocess.TimeoutExpired after `timeout` seconds)."""
  env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
  result = subprocess.run([sys.executable, "-c", code, *args], env=env,
                          capture_output=True, text=True, timeout=timeout)
  if check and result.returncode:
    raise AssertionError(f"subprocess failed:\n{result.stderr[-3000:]}")
  return result


# The files that train or export models, longest first (95, 71, 61, 55,
# 53, 38, 34 and 32 s run alone: `pytest --durations`): `make test` hands
# whole files to its two workers in collection order, and with these last
# one worker ran on alone after the other had finished (pytest 6:46; 6:01
# in this order).
LONGEST_FILES = ("test_train.py", "test_selective.py", "test_training.py",
                 "test_model.py", "test_export.py", "test_distribute.py",
                 "test_tiling.py", "test_abtest.py")


def pytest_collection_modifyitems(items):
  def rank(item):
    name = item.path.name
    return (LONGEST_FILES.index(name) if name in LONGEST_FILES
            else len(LONGEST_FILES))
  items.sort(key=rank)  # Stable: each file's own order is kept.
