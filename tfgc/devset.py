"""Assembles the evaluation dev set from photos shipped inside PyPI packages.

    tfgc devset --out=devset

No download: the photos come from the installed scikit-image, matplotlib
and scikit-learn wheels (all pinned in requirements.txt). Writes each as
PNG (lossless, so no codec sees a JPEG-decoded image twice through our
hands) plus manifest.json with each photo's source file and licence.
"""

import argparse
import importlib.util
import json
import os
import sys

from tfgc import extras
from tfgc.errors import TfgcError
from tfgc.images import read_image, save_png

# name -> (package, path inside the package, licence as its docs state it).
PHOTOS = {
    "astronaut": ("skimage", "data/astronaut.png",
                  "public domain (NASA), per skimage.data.astronaut"),
    "chelsea": ("skimage", "data/chelsea.png",
                "CC0 (Stefan van der Walt), per skimage.data.chelsea"),
    "coffee": ("skimage", "data/coffee.png",
               "CC0 (Rachel Michetti), per skimage.data.coffee"),
    "rocket": ("skimage", "data/rocket.jpg",
               "public domain (SpaceX), per skimage.data.rocket"),
    "grace_hopper": ("matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                     "public domain (U.S. Navy photograph)"),
    "china": ("sklearn", "datasets/images/china.jpg",
              "CC BY 2.0 (danielbuechele on Flickr), per "
              "sklearn/datasets/images/README.txt"),
    "flower": ("sklearn", "datasets/images/flower.jpg",
               "CC BY 2.0 (vultilion on Flickr), per "
               "sklearn/datasets/images/README.txt"),
}


def source_path(package, relative):
  """The file's path inside the installed `package` (not imported)."""
  spec = importlib.util.find_spec(package)
  if spec is None or not spec.submodule_search_locations:
    raise TfgcError(f"{package} is not installed: it carries dev-set "
                    "photos; pip install 'tfgc[eval]' (in a checkout: make "
                    "install)")
  return os.path.join(spec.submodule_search_locations[0], relative)


def build(out):
  """Writes the dev set to `out`; returns the manifest (list of dicts)."""
  os.makedirs(out, exist_ok=True)
  manifest = []
  for name, (package, relative, licence) in PHOTOS.items():
    image = read_image(source_path(package, relative))
    save_png(os.path.join(out, f"{name}.png"), image)
    manifest.append(dict(file=f"{name}.png", package=package,
                         source=relative, licence=licence,
                         width=image.shape[1], height=image.shape[0]))
  with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2)
  return manifest


def main(argv):
  parser = argparse.ArgumentParser(
      prog="tfgc devset", description=__doc__.split("\n")[0])
  parser.add_argument("--out", default="devset", help="output folder")
  args = parser.parse_args(argv)
  try:
    extras.require("eval")
    manifest = build(args.out)
  except TfgcError as e:
    print(f"{parser.prog}: {e}", file=sys.stderr)
    return 1
  pixels = sum(m["width"] * m["height"] for m in manifest)
  print(f"{len(manifest)} photos ({pixels / 1e6:.1f} MP) -> {args.out}/")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
