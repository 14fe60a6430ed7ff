"""Tiles the evaluation's centre crops into one picture for the docs
(docs/devset_crops.webp, shown in docs/evaluation.md).

`tfgc evaluate` writes OUT/crops/IMAGE/LABEL.png (`original`, each
model's decoding, each codec's at that model's rate). This puts one row per
image and one column per label, at 1:1 pixels, into a lossy WebP:

    python scripts/crop_montage.py --crops=RUN/eval/crops \
        --out=docs/devset_crops.webp
"""

import os
import sys

import numpy as np
from absl import app, flags
from PIL import Image

FLAGS = flags.FLAGS
flags.DEFINE_string("crops", None, "evaluate's crops/ folder", required=True)
flags.DEFINE_string("out", None, "the picture to write (.webp)", required=True)
flags.DEFINE_list("images", ["astronaut.png", "chelsea.png", "coffee.png",
                             "grace_hopper.png"],
                  "rows: the images' names (their subfolders of --crops)")
flags.DEFINE_list("columns", ["original", "export", "export-x265",
                              "export-hevc"], "columns: the crops' labels")
flags.DEFINE_integer("tile", 256, "side of each tile, pixels (a centre cut "
                     "of the crop)")
flags.DEFINE_integer("quality", 90, "WebP quality")


def tile(path, side):
  """The centre `side` x `side` of the RGB image at `path`."""
  pixels = np.asarray(Image.open(path).convert("RGB"))
  height, width = pixels.shape[:2]
  if min(height, width) < side:
    raise app.UsageError(f"{path} is {width}x{height}, smaller than "
                         f"--tile={side}")
  top, left = (height - side) // 2, (width - side) // 2
  return pixels[top:top + side, left:left + side]


def main(argv):
  del argv
  rows = []
  for image in FLAGS.images:
    paths = [os.path.join(FLAGS.crops, image, f"{label}.png")
             for label in FLAGS.columns]
    missing = [p for p in paths if not os.path.exists(p)]
    if missing:
      print(f"crop_montage.py: no {missing[0]}: check --crops, --images and "
            "--columns", file=sys.stderr)
      return 1
    rows.append(np.concatenate([tile(p, FLAGS.tile) for p in paths], axis=1))
  Image.fromarray(np.concatenate(rows, axis=0)).save(
      FLAGS.out, quality=FLAGS.quality)
  print(f"wrote {FLAGS.out}: {len(rows)} rows ({', '.join(FLAGS.images)}) x "
        f"{len(FLAGS.columns)} columns ({', '.join(FLAGS.columns)})")
  return 0


if __name__ == "__main__":
  app.run(lambda argv: sys.exit(main(argv)))
