"""`make demo`: one photo through the default model, next to JPEG and WebP.

    tfgc demo --out demo-output [--photo=coffee|PATH] [--model=NAME]

Compresses the photo with a bundled model (default: the default model),
writes the .tfgc file and its decoding, encodes the same photo with JPEG
and WebP at the .tfgc file's size (or their smallest possible file when
they cannot go that low), and writes side_by_side.png (original | tfgc |
JPEG | WebP, each captioned with its figures). Prints bpp (real file
sizes, headers included), PSNR, MS-SSIM and LPIPS-AlexNet of each, and
writes them to results.json.

The default photo is scikit-image's `coffee` (dev set, never trained on).
"""

import argparse
import dataclasses
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from tfgc import (baselines, codec, devset, evaluate, extras, metrics, quiet,
                  zoo)
from tfgc.errors import TfgcError
from tfgc.images import read_image, save_png

# Codec name -> (label, file extension).
CLASSICAL = {"jpeg": ("JPEG", "jpg"), "webp": ("WebP", "webp")}
CAPTION_HEIGHT = 44


@dataclasses.dataclass(frozen=True)
class Entry:
  """One panel: a method's file and its decoding, uint8 [H, W, 3]."""
  label: str
  filename: str
  data: bytes
  decoded: np.ndarray
  note: str = ""


def photo_path(photo):
  """A dev-set photo name or a file path -> a path."""
  if photo in devset.PHOTOS:
    return devset.source_path(*devset.PHOTOS[photo][:2])
  if not os.path.isfile(photo):
    names = ", ".join(devset.PHOTOS)
    raise TfgcError(f"no photo {photo!r}: give an image file or one of "
                    f"{names}")
  return photo


def classical_entry(name, image, target_bpp):
  """The codec's largest file at or below `target_bpp` (or its smallest)."""
  result = baselines.RateSearch(name, image).at_bpp(target_bpp)
  note = "" if result.reached else "its smallest file"
  label, extension = CLASSICAL[name]
  return Entry(label, f"{name}.{extension}", result.data,
               baselines.decode(name, result.data), note)


def figures(reference, entry):
  """bpp and metrics of one entry (a dict of floats)."""
  height, width = reference.image.shape[:2]
  return dict(bytes=len(entry.data),
              bpp=8 * len(entry.data) / (height * width),
              **evaluate.score(reference, entry.decoded, ("lpips_alexnet",)))


def caption(label, scores, note=""):
  """Two lines under a panel."""
  if scores is None:
    return [label, "24 bpp (uncompressed)"]
  note = f" ({note})" if note else ""
  return [f"{label}: {scores['bpp']:.3f} bpp{note}",
          f"PSNR {scores['psnr']:.1f} dB  MS-SSIM {scores['ms_ssim']:.3f}  "
          f"LPIPS {scores['lpips_alexnet']:.3f}"]


def side_by_side(panels):
  """[(uint8 [H, W, 3], [line, line])] -> one image, captions underneath."""
  height, width = panels[0][0].shape[:2]
  sheet = Image.new("RGB", (width * len(panels), height + CAPTION_HEIGHT),
                    "white")
  draw = ImageDraw.Draw(sheet)
  font = ImageFont.load_default(size=max(10, min(16, width // 30)))
  for i, (pixels, lines) in enumerate(panels):
    sheet.paste(Image.fromarray(pixels), (i * width, 0))
    for j, line in enumerate(lines):
      draw.text((i * width + 6, height + 4 + 19 * j), line, fill="black",
                font=font)
  return np.asarray(sheet)


def run(photo, out, model=None):
  """Writes the demo's files to `out`; returns {label: figures}."""
  os.makedirs(out, exist_ok=True)
  image = read_image(photo_path(photo))
  loaded = codec.load(model)
  data = loaded.compress(image)
  model_name = model or zoo.default()
  entries = [Entry(f"tfgc {model_name}", "photo.tfgc", data,
                   loaded.decompress(data))]
  save_png(os.path.join(out, "photo.tfgc.png"), entries[0].decoded)
  target_bpp = 8 * len(data) / (image.shape[0] * image.shape[1])
  entries += [classical_entry(name, image, target_bpp) for name in CLASSICAL]
  save_png(os.path.join(out, "original.png"), image)
  reference = metrics.Reference(image)
  results = {}
  panels = [(image, caption("original", None))]
  for entry in entries:
    with open(os.path.join(out, entry.filename), "wb") as f:
      f.write(entry.data)
    scores = figures(reference, entry)
    results[entry.label] = dict(scores, file=entry.filename, note=entry.note)
    panels.append((entry.decoded, caption(entry.label, scores, entry.note)))
  save_png(os.path.join(out, "side_by_side.png"), side_by_side(panels))
  with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(dict(photo=photo, model_id=loaded.model_id, results=results),
              f, indent=2)
  return results


def main(argv):
  parser = argparse.ArgumentParser(prog="tfgc demo",
                                   description=__doc__.split("\n")[0])
  parser.add_argument("--out", default="demo-output", help="output folder")
  parser.add_argument("--photo", default="coffee",
                      help="a dev-set photo's name or an image file")
  parser.add_argument("--model", default=None,
                      help="a bundled model's name or an export directory "
                           "(default: the default model)")
  quiet.add_flag(parser)
  args = parser.parse_args(argv)
  quiet.configure(args.verbose)
  try:
    extras.require("eval")
    results = run(args.photo, args.out, args.model)
  except TfgcError as e:
    print(f"{parser.prog}: {e}", file=sys.stderr)
    return 1
  print(f"{'method':<22}{'bytes':>7}{'bpp':>8}{'PSNR':>7}{'MS-SSIM':>9}"
        f"{'LPIPS':>7}")
  for label, r in results.items():
    note = f"  ({r['note']})" if r["note"] else ""
    print(f"{label:<22}{r['bytes']:>7}{r['bpp']:>8.4f}{r['psnr']:>7.2f}"
          f"{r['ms_ssim']:>9.3f}{r['lpips_alexnet']:>7.3f}{note}")
  print("LPIPS: AlexNet (lower is better). Files and side_by_side.png in "
        f"{args.out}/")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
