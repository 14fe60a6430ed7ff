"""`python -m tfgc.labellers`: label maps of a folder of photos, for SC
training with `train.py --labels_dir=OUT --num_classes=K`.

    python -m tfgc.labellers --labeller=person --images=photos --out=labels

writes OUT/sub/NAME.png (uint8 class ids, the image's size as decoded)
for each IMAGES/sub/NAME.ext, the names train.py pairs them by
(`data.find_label_map`), and OUT/classes.txt (one class name per line,
`compress.py --classes`). Maps already in OUT are kept: a run that was
stopped carries on where it ended.
"""

import os
import sys

import numpy as np
from absl import app, flags
from PIL import Image

from tfgc import labellers
from tfgc.images import list_files, read_image

FLAGS = flags.FLAGS
flags.DEFINE_enum("labeller", None, labellers.NAMES, "the labeller",
                  required=True)
flags.DEFINE_string("images", None, "folder of photos, searched recursively",
                    required=True)
flags.DEFINE_string("out", None, "folder of the label maps", required=True)
flags.DEFINE_integer("classes", 8, "standin: regions per image")


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
  del argv
  options = dict(classes=FLAGS.classes) if FLAGS.labeller == "standin" else {}
  labeller = labellers.get(FLAGS.labeller, **options)
  written, kept, pixels = label_folder(labeller, FLAGS.images, FLAGS.out)
  shares = ", ".join(f"{name} {count / max(pixels.sum(), 1):.1%}"
                     for name, count in zip(labeller.class_names, pixels))
  print(f"{FLAGS.out}: {written} label maps written, {kept} kept; "
        f"pixels: {shares}")
  return 0


if __name__ == "__main__":
  app.run(lambda argv: sys.exit(main(argv)))
