"""What the realism dial does: one file per photo decoded at several r.

    python benchmarks/realism_sweep.py --images=~/tfgc-data/val768 \
        --model=RUN/export --realism=0,0.25,0.5,0.75,1 \
        --codec=x265 --mse_model=BACKBONE/export \
        --out=benchmarks/results/realism_sweep.json \
        --strip=PHOTO.png --strip_out=docs/realism_strip.webp

Each photo (downscaled so its shorter side is at most --max_short_side) is
compressed once into a real .tfgc file and decoded at every r; the
figures are means over the photos of PSNR, MS-SSIM, DISTS, LPIPS-VGG and
LPIPS-AlexNet at each r, the bpp being the same for all. The last lines
say whether PSNR falls and DISTS and LPIPS move one way as r grows (the
dial means what it says when they do). --codec adds a classical codec's
largest file of at most the model's bytes on each photo. --mse_model, a
model trained on MSE and rate alone, compresses the same photos: r = 0
should come within 1 dB of its PSNR at about its bytes. --strip writes
one photo's centre crop decoded at each r side by side, labelled, for
the README.
"""

import argparse
import json
import os
import sys

import numpy as np
from PIL import Image, ImageDraw, ImageFont

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from tfgc import baselines, codec, data, evaluate, metrics  # noqa: E402

CROP = 256
LABEL_HEIGHT = 30


def sweep(model, photos, realisms, codec_name=None):
  """{r: mean scores} and the mean bpp of `model` (a loaded Codec with the
  dial) over `photos` (name -> uint8 [H, W, 3]); with `codec_name` (of
  `tfgc.baselines`) also its largest file of at most the model's bytes on
  each photo, under the key `codec_name`, and that codec's mean bpp and
  count of photos where it could not go so low (its smallest file)."""
  rows, bpp = {r: [] for r in realisms + [codec_name] if r is not None}, []
  codec_bpp, too_large = [], 0
  for image in photos.values():
    encoded = model.compress(image)
    pixels = image.shape[0] * image.shape[1]
    bpp.append(8 * len(encoded) / pixels)
    reference = metrics.Reference(image)
    for r in realisms:
      rows[r].append(evaluate.score(reference,
                                    model.decompress(encoded, realism=r),
                                    evaluate.PERCEPTUAL))
    if codec_name:
      found = baselines.at_bpp(codec_name, image, bpp[-1])
      codec_bpp.append(8 * len(found.data) / pixels)
      too_large += not found.reached
      rows[codec_name].append(evaluate.score(
          reference, baselines.decode(codec_name, found.data),
          evaluate.PERCEPTUAL))
  means = {r: {key: float(np.mean([row[key] for row in found]))
               for key in found[0]} for r, found in rows.items()}
  codec_figures = codec_name and dict(
      bpp=float(np.mean(codec_bpp)), too_large=too_large)
  return means, float(np.mean(bpp)), codec_figures


def mse_model_scores(model, photos):
  """Mean bpp and PSNR of real files of `model` (a loaded Codec) over
  `photos` (name -> uint8 [H, W, 3])."""
  bpp, psnr = [], []
  for image in photos.values():
    encoded = model.compress(image)
    bpp.append(8 * len(encoded) / (image.shape[0] * image.shape[1]))
    psnr.append(metrics.psnr(image, model.decompress(encoded)))
  return dict(bpp=float(np.mean(bpp)), psnr=float(np.mean(psnr)))


def monotone(values):
  """"rises", "falls" or "not monotone" along `values`."""
  steps = np.diff(values)
  if np.all(steps > 0):
    return "rises"
  if np.all(steps < 0):
    return "falls"
  return "not monotone"


def strip(model, image, realisms):
  """The centre CROP x CROP of `image`, then of its decode at each r, side
  by side, each labelled ("original", "r = 0.5")."""
  height, width = image.shape[:2]
  top, left = max(0, (height - CROP) // 2), max(0, (width - CROP) // 2)
  encoded = model.compress(image)
  panels = [("original", image)] + [
      (f"r = {r:g}", model.decompress(encoded, realism=r)) for r in realisms]
  crops = [(label, pixels[top:top + CROP, left:left + CROP])
           for label, pixels in panels]
  side = crops[0][1].shape[1]
  canvas = Image.new("RGB", (side * len(crops), crops[0][1].shape[0]
                             + LABEL_HEIGHT), "white")
  draw = ImageDraw.Draw(canvas)
  font = ImageFont.load_default(size=20)
  for i, (label, crop) in enumerate(crops):
    draw.text((i * side + 6, 4), label, fill="black", font=font)
    canvas.paste(Image.fromarray(crop), (i * side, LABEL_HEIGHT))
  return canvas


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--images", required=True, help="folder of photos")
  parser.add_argument("--model", required=True,
                      help="an export folder of a model with the dial")
  parser.add_argument("--realism", default="0,0.25,0.5,0.75,1")
  parser.add_argument("--codec", default=None,
                      help="a classical codec (e.g. x265) measured at its "
                      "largest file of at most the model's bytes per photo")
  parser.add_argument("--mse_model", default=None,
                      help="an export folder of a model trained on MSE "
                      "and rate alone, to compare r = 0 with")
  parser.add_argument("--max_short_side", type=int, default=768)
  parser.add_argument("--out", default=None, help="JSON file of the figures")
  parser.add_argument("--strip", default=None,
                      help="file name of the photo (in --images) to show")
  parser.add_argument("--strip_out", default="realism_strip.webp")
  args = parser.parse_args(argv)
  realisms = [float(r) for r in args.realism.split(",")]
  model = codec.load(os.path.expanduser(args.model))
  if model.default_realism is None:
    print(f"{args.model} has no realism dial", file=sys.stderr)
    return 1
  mse_model = args.mse_model and codec.load(os.path.expanduser(
      args.mse_model))
  if mse_model and mse_model.default_realism is not None:
    print(f"--mse_model={args.mse_model} has a realism dial: give a model "
          "trained on MSE and rate alone", file=sys.stderr)
    return 1
  folder = os.path.expanduser(args.images)
  photos = {os.path.relpath(p, folder): data.load_rgb(p, args.max_short_side)
            for p in data.scan_folder(folder).paths}
  if args.codec and args.codec not in baselines.CODECS:
    print(f"--codec={args.codec}: choose from {', '.join(baselines.CODECS)}",
          file=sys.stderr)
    return 1
  means, bpp, codec_figures = sweep(model, photos, realisms, args.codec)
  print(f"{args.model} on {len(photos)} photos, {bpp:.4f} bpp:")
  for r, m in means.items():
    name = (f"r = {r:<5g}" if r != args.codec else
            f"{r} at {codec_figures['bpp']:.4f} bpp (its smallest file on "
            f"{codec_figures['too_large']} photos):")
    print(f"  {name} PSNR {m['psnr']:.2f}  MS-SSIM {m['ms_ssim']:.3f}  "
          f"DISTS {m['dists']:.4f}  LPIPS-VGG {m['lpips_vgg16']:.4f}  "
          f"LPIPS-Alex {m['lpips_alexnet']:.4f}")
  trends = {key: monotone([means[r][key] for r in realisms])
            for key in means[realisms[0]]}
  print("as r grows: " + ", ".join(f"{k} {v}" for k, v in trends.items()))
  figures = dict(model=args.model, model_id=model.model_id,
                 images=args.images, photos=len(photos), bpp=bpp,
                 by_realism={f"{r:g}": means[r] for r in realisms},
                 trends=trends)
  if args.codec:
    figures["codec"] = dict(means[args.codec], name=args.codec,
                            **codec_figures)
  if mse_model:
    baseline = mse_model_scores(mse_model, photos)
    gap = means[min(realisms)]["psnr"] - baseline["psnr"]
    print(f"{args.mse_model} (MSE only): {baseline['bpp']:.4f} bpp, PSNR "
          f"{baseline['psnr']:.2f}; r = {min(realisms):g} minus it: "
          f"{gap:+.2f} dB at {bpp / baseline['bpp']:.2f}x its bytes")
    figures["mse_model"] = dict(baseline, model=args.mse_model,
                                model_id=mse_model.model_id,
                                psnr_gap_at_lowest_r=gap)
  if args.out:
    with open(args.out, "w") as f:
      json.dump(figures, f, indent=2)
  if args.strip:
    strip(model, photos[args.strip], realisms).save(args.strip_out,
                                                    lossless=True)
    print(f"strip of {args.strip} -> {args.strip_out}")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
