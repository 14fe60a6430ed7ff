"""Gathers training and validation photos from Debian wallpaper packages.

    python scripts/gather_training_photos.py --out ~/tfgc-data

Downloads the packages with `apt-get download` (no root; run
`apt-get update` once first), extracts them with `dpkg -x`, keeps the
photographs (large raster images), drops exact and near duplicates (the same
wallpaper at several resolutions) by a 64-bit average hash, and writes:

    OUT/train/*.png, OUT/val/*.png   one file per distinct photo
    OUT/manifest.json                file -> package, source path, licence

Nothing is written inside the repository; the photos' licences are those of
their packages (recorded in the manifest, copied to OUT/licenses/).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

PACKAGES = ("mate-backgrounds", "plasma-workspace-wallpapers",
            "lomiri-wallpapers", "lxqt-themes", "palapeli-data")
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp")
MIN_PIXELS = 512 * 384
# Photos whose average hashes differ in at most this many of 64 bits are
# treated as one picture.
NEAR_DUPLICATE_BITS = 6
# Every this-many-th distinct photo (in sorted order) is held out.
VALIDATION_EVERY = 8


def average_hash(image):
  gray = image.convert("L").resize((8, 8), Image.BILINEAR)
  pixels = np.asarray(gray, dtype=np.float32)
  return int("".join("1" if p else "0" for p in
                     (pixels > pixels.mean()).ravel()), 2)


def looks_like_photo(image):
  """Large, colourful enough raster images; drops icons and flat art."""
  if image.width * image.height < MIN_PIXELS:
    return False
  small = np.asarray(image.convert("RGB").resize((64, 64)), dtype=np.float32)
  return small.std() > 20 and len(np.unique(small.reshape(-1, 3) // 16,
                                           axis=0)) > 200


def extract(package, workdir):
  subprocess.run(["apt-get", "download", package], cwd=workdir, check=True,
                 stdout=subprocess.DEVNULL)
  deb = next(f for f in os.listdir(workdir)
             if f.startswith(package + "_") and f.endswith(".deb"))
  root = os.path.join(workdir, package)
  subprocess.run(["dpkg", "-x", deb, root], cwd=workdir, check=True)
  return root


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", required=True,
                      help="output folder, outside the repository")
  args = parser.parse_args(argv)
  out = os.path.abspath(os.path.expanduser(args.out))
  for sub in ("train", "val", "licenses"):
    os.makedirs(os.path.join(out, sub), exist_ok=True)
  candidates = []
  with tempfile.TemporaryDirectory() as workdir:
    for package in PACKAGES:
      root = extract(package, workdir)
      licence = os.path.join(root, "usr/share/doc", package, "copyright")
      if os.path.exists(licence):
        shutil.copy(licence, os.path.join(out, "licenses", package))
      for folder, _, files in os.walk(root):
        for name in sorted(files):
          if not name.lower().endswith(IMAGE_SUFFIXES):
            continue
          path = os.path.join(folder, name)
          try:
            with Image.open(path) as image:
              image = image.convert("RGB")
          except OSError:
            continue
          if looks_like_photo(image):
            candidates.append((package, os.path.relpath(path, root), image))
    # Largest first, so the kept copy of each duplicate is the sharpest.
    candidates.sort(key=lambda c: -c[2].width * c[2].height)
    kept, hashes = [], []
    for package, source, image in candidates:
      h = average_hash(image)
      if any(bin(h ^ other).count("1") <= NEAR_DUPLICATE_BITS
             for other in hashes):
        continue
      hashes.append(h)
      kept.append((package, source, image))
    kept.sort(key=lambda c: (c[0], c[1]))
    manifest = []
    for i, (package, source, image) in enumerate(kept):
      split = "val" if i % VALIDATION_EVERY == VALIDATION_EVERY - 1 else "train"
      digest = hashlib.sha256(image.tobytes()).hexdigest()[:12]
      name = f"{package}-{digest}.png"
      image.save(os.path.join(out, split, name))
      manifest.append(dict(file=f"{split}/{name}", package=package,
                           source=source, width=image.width,
                           height=image.height,
                           licence=f"licenses/{package}"))
  with open(os.path.join(out, "manifest.json"), "w") as f:
    json.dump(manifest, f, indent=2)
  print(f"{len(candidates)} candidate images, {len(kept)} distinct photos: "
        f"{sum(m['file'].startswith('train') for m in manifest)} train, "
        f"{sum(m['file'].startswith('val') for m in manifest)} val -> {out}")


if __name__ == "__main__":
  main(sys.argv[1:])
