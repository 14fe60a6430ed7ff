"""`tfgc label`: label maps of a folder of photos, for SC
training with `tfgc train --labels_dir=OUT --labeller=NAME`.

    tfgc label --labeller=person --images=photos --out=labels

writes OUT/sub/NAME.png (uint8 class ids, the image's size as decoded)
for each IMAGES/sub/NAME.ext, the names tfgc train pairs them by
(`data.find_label_map`), and OUT/classes.txt (one class name per line,
`tfgc compress --classes`). Maps already in OUT are kept: a run that was
stopped carries on where it ended.
"""

import argparse
import os
import sys

import numpy as np
from PIL import Image

from tfgc import labellers, quiet
from tfgc.errors import TfgcError
from tfgc.images import list_files, read_image


def label_folder(labeller, images, out):
  """Writes the label map of each image under `images` into `out` (see
  the module doc); returns (maps written, maps kept, pixels per class)."""
  os.makedirs(out, exist_ok=True)
  with open(os.path.join(out, "classes.txt"), "w") as f:
    f.write("".join(f"{name}\n" for name in labeller.class_names))
  written = kept = 0
  pixels = np.zeros(len(labeller.class_names), np.int64)
  for path in list_files(images):
    relative = os.path.splitext(os.path.relpath(path, images))[0] + ".png"
    target = os.path.join(out, relative)
    if os.path.exists(target):
      labels = np.asarray(Image.open(target))
      kept += 1
    else:
      labels = labeller.label(read_image(path, max_pixels=None))
      os.makedirs(os.path.dirname(target), exist_ok=True)
      Image.fromarray(labels).save(target + ".partial", format="PNG")
      os.replace(target + ".partial", target)
      written += 1
    pixels += np.bincount(labels.ravel(), minlength=len(pixels))[:len(pixels)]
  return written, kept, pixels


def main(argv):
  # argparse, not absl flags: `tfgc train` has its own --labeller flag, and
  # both modules may be imported into one process (the tests).
  parser = argparse.ArgumentParser(prog="tfgc label",
                                   description=__doc__.split("\n")[0])
  parser.add_argument("--labeller", required=True, choices=labellers.NAMES)
  parser.add_argument("--images", required=True,
                      help="folder of photos, searched recursively")
  parser.add_argument("--out", required=True, help="folder of the label maps")
  parser.add_argument("--classes", type=int, default=8,
                      help="standin: regions per image")
  quiet.add_flag(parser)
  args = parser.parse_args(argv)
  quiet.configure(args.verbose)
  options = dict(classes=args.classes) if args.labeller == "standin" else {}
  try:
    labeller = labellers.get(args.labeller, **options)
    written, kept, pixels = label_folder(labeller, args.images, args.out)
  except TfgcError as e:
    print(f"{parser.prog}: {e}", file=sys.stderr)
    return 1
  shares = ", ".join(f"{name} {count / max(pixels.sum(), 1):.1%}"
                     for name, count in zip(labeller.class_names, pixels))
  print(f"{args.out}: {written} label maps written, {kept} kept; "
        f"pixels: {shares}")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
