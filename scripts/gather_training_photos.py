"""Gathers training and validation photos from Debian wallpaper packages.

    python scripts/gather_training_photos.py --out ~/tfgc-data

Downloads the packages with `apt-get download` (no root; run
`apt-get update` once first), extracts them with `dpkg -x`, keeps the
photographs listed in PHOTOGRAPHS, drops exact and near duplicates (the same
wallpaper at several resolutions) by a 256-bit average hash, and writes:

    OUT/train/*.png, OUT/val/*.png   one file per distinct photo
    OUT/manifest.json                file -> package, source path, licence

Nothing is written inside the repository; the photos' licences are those of
their packages (recorded in the manifest, copied to OUT/licenses/).
"""

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

# The photographs of each package, as glob patterns of their paths inside it.
# Reviewed by eye: these packages also hold renders, illustrations, logos and
# abstract art, which no colour or texture statistic told apart reliably, and
# a codec for photos should not learn their flat colours and hard edges.
PHOTOGRAPHS = {
    "lomiri-wallpapers-16.04": ("usr/share/backgrounds/*.jpg",),
    "lomiri-wallpapers-20.04": (
        "usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg",),
    "lxqt-themes": tuple(
        f"usr/share/lxqt/wallpapers/{name}" for name in (
            "Butterfly-Kenneth-Wimer.jpg", "Valendas.png",
            "after-the-rain.jpg", "appleflower.png", "beam.png",
            "butterfly.png", "cloud.png", "drop.png", "flowers.png",
            "fog.jpg", "this-is-not-windows.jpg")),
    "mate-backgrounds": ("usr/share/backgrounds/mate/nature/*.jpg",),
    "palapeli-data": ("usr/share/palapeli/collection/*.jpg",),
    "plasma-workspace-wallpapers": tuple(
        f"usr/share/wallpapers/{name}/contents/images/*" for name in (
            "BytheWater", "ColdRipple", "ColorfulCups", "DarkestHour",
            "EveningGlow", "FallenLeaf", "Grey", "Kite", "OneStandsOut",
            "Path", "Volna", "summer_1am")),
}
# Photos whose average hashes differ in at most this many of 256 bits are
# treated as one picture. The same wallpaper at several resolutions differs
# in 0 bits; the closest two distinct photos of these packages in 23.
NEAR_DUPLICATE_BITS = 8
# Every this-many-th distinct photo (in sorted order) is held out.
VALIDATION_EVERY = 8


def average_hash(image):
  """The 16x16 grey image thresholded at its mean, as a 256-bit integer."""
  gray = image.convert("L").resize((16, 16), Image.BILINEAR)
  pixels = np.asarray(gray, dtype=np.float32)
  return int("".join("1" if p else "0" for p in
                     (pixels > pixels.mean()).ravel()), 2)


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
    for package, patterns in PHOTOGRAPHS.items():
      root = extract(package, workdir)
      licence = os.path.join(root, "usr/share/doc", package, "copyright")
      if os.path.exists(licence):
        shutil.copy(licence, os.path.join(out, "licenses", package))
      paths = set()
      for pattern in patterns:
        matches = glob.glob(os.path.join(root, pattern))
        if not matches:
          sys.exit(f"{package}: no file matches {pattern}; update "
                   "PHOTOGRAPHS for this package version")
        paths.update(matches)
      for path in sorted(paths):
        with Image.open(path) as image:
          candidates.append((package, os.path.relpath(path, root),
                             image.convert("RGB")))
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
