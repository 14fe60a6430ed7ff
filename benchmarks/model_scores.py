"""Real-file bpp, PSNR, MS-SSIM, DISTS, LPIPS-VGG and LPIPS-AlexNet of models
on whole photos.

    python benchmarks/model_scores.py --images=~/tfgc-data/val \
        --models=gc-small-c8,~/tfgc-runs/release/gc-small-c8/export \
        --max_short_side=768 --out=benchmarks/results/model_scores.json

Each photo (downscaled so its shorter side is at most --max_short_side, as
`tfgc train`'s validation does; 0 = as it is) is compressed whole into a real
.tfgc file and decoded; the figures are means over the photos. Models only,
no codecs: for comparing checkpoints of a run on its held-out photos, or a
candidate with the bundled model, where `tfgc evaluate` would
also run every codec.
"""

import argparse
import json
import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from tfgc import codec, data, evaluate, metrics  # noqa: E402


def measure(model, photos):
  """Mean bpp, PSNR, MS-SSIM, DISTS, LPIPS-VGG and LPIPS-AlexNet of `model`
  (a bundled name or export directory) over `photos` (uint8 [H, W, 3]
  arrays)."""
  model = codec.load(model)
  rows = []
  for i, image in enumerate(photos):
    point = evaluate.evaluate_model("", model, str(i),
                                    metrics.Reference(image),
                                    evaluate.PERCEPTUAL).point
    rows.append(dict(bpp=point.bpp, **point.scores))
  return {key: float(np.mean([r[key] for r in rows])) for key in rows[0]}


def main(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--images", required=True, help="folder of photos")
  parser.add_argument("--models", required=True,
                      help="comma-separated bundled names or export folders")
  parser.add_argument("--max_short_side", type=int, default=768)
  parser.add_argument("--out", default=None, help="JSON file of the figures")
  args = parser.parse_args(argv)
  paths = data.scan_folder(os.path.expanduser(args.images)).paths
  photos = [data.load_rgb(path, args.max_short_side) for path in paths]
  results = {}
  for name in args.models.split(","):
    model = os.path.expanduser(name) if os.sep in name else name
    results[name] = r = measure(model, photos)
    print(f"{name}: {r['bpp']:.4f} bpp  PSNR {r['psnr']:.2f}  "
          f"MS-SSIM {r['ms_ssim']:.3f}  DISTS {r['dists']:.4f}  "
          f"LPIPS-VGG {r['lpips_vgg16']:.4f}  "
          f"LPIPS-Alex {r['lpips_alexnet']:.4f}",
          flush=True)
  if args.out:
    with open(args.out, "w") as f:
      json.dump(dict(images=args.images, photos=len(photos),
                     max_short_side=args.max_short_side, results=results),
                f, indent=2)
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
