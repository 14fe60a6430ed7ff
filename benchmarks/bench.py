"""tfgc's figures: parameters, codec speed and memory, training speed.

    python benchmarks/bench.py --out benchmarks/results/bench.json

* Parameter counts of every preset.
* `small` encode and decode through `tfgc.codec` (tiled above its default
  memory budget) at 512x512, 1920x1080 and 3840x2160, and once at
  12000x8000, each operation in a fresh process on the exported
  SavedModel, so its peak RSS is that operation's; Pillow's JPEG, WebP and
  AVIF encode and decode the same image in the same run, reported as ratios
  (tfgc time / codec time).
* Training steps per second and CPU seconds per step of the default
  models' recipe, warm-up and adversarial (`train_step.py`), fed by the
  real input pipeline (on scikit-image's photos, upscaled), and the input
  pipeline's throughput alone at 128 and 256 px crops.
* The SC labellers (`tfgc.labellers`): seconds to load, and per 768x512
  photo.
* The `tfgc` command's start-up: `tfgc --help`, `tfgc train --help`, a
  `tfgc train` flag mistake (all answered before TensorFlow loads) and
  `import tfgc, tensorflow`, each a fresh process, with its exit status
  (`--start_up_only` measures these alone and keeps the other figures of
  --out).

Timings are medians of repeated runs after one warm-up run (12000x8000:
the first run). Weights are
untrained: speed and memory do not depend on their values.
"""

import argparse
import io
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import tensorflow as tf
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import train_step  # noqa: E402
from train_step import photo_folder  # noqa: E402
from tfgc import data, export, labellers  # noqa: E402
from tfgc.config import PRECISIONS, PRESETS, preset  # noqa: E402
from tfgc.model import GenerativeCompressionModel  # noqa: E402

CODEC_RUN = """
import os
import sys
sys.path.insert(0, sys.argv[-1])
sys.path.insert(0, os.path.dirname(sys.argv[-1]))
from bench import test_image, timed
from tfgc import codec
operation, model_dir, stream_file, height, width, repeats = sys.argv[1:-1]
model = codec.load(model_dir, max_pixels=None)
if operation == "encode":
  image = test_image(int(height), int(width))
  run = lambda: model.compress(image)
else:
  with open(stream_file, "rb") as f:
    data = f.read()
  run = lambda: model.decompress(data)
result, seconds = timed(run, int(repeats))
if operation == "encode":
  with open(stream_file, "wb") as f:
    f.write(result)
# VmHWM, not ru_maxrss: the latter keeps the parent's peak across exec.
with open("/proc/self/status") as f:
  peak_kib = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
print(seconds, peak_kib / 1024, len(result) if operation == "encode" else 0)
"""


SIZES = ((512, 512), (1080, 1920), (2160, 3840))
# Timed once, beside the others: memory flat in image size once tiled.
LARGE_SIZE = (8000, 12000)
PILLOW_CODECS = (("jpeg", dict(quality=75)), ("webp", dict(quality=75)),
                 ("avif", dict(quality=50)))


def test_image(height, width):
  """A smooth photo-like test image (scikit-image's coffee, resized)."""
  import skimage.data
  return np.asarray(Image.fromarray(skimage.data.coffee()).resize(
      (width, height), Image.BICUBIC))


def timed(run, repeats):
  """(the first run's result, seconds per run): the median of `repeats`
  runs after that warm-up one, or the warm-up's own time if `repeats` is
  0."""
  start = time.perf_counter()
  result = run()
  times = [time.perf_counter() - start]
  for _ in range(repeats):
    start = time.perf_counter()
    run()
    times.append(time.perf_counter() - start)
  return result, statistics.median(times[1:] or times)


def pillow_speed(height, width, repeats):
  """Encode/decode seconds of Pillow's codecs on the same test image."""
  image = Image.fromarray(test_image(height, width))
  results = {}
  for name, options in PILLOW_CODECS:
    def encode():
      buffer = io.BytesIO()
      image.save(buffer, format=name.upper(), **options)
      return buffer.getvalue()
    encoded, encode_seconds = timed(encode, repeats)
    _, decode_seconds = timed(
        lambda: Image.open(io.BytesIO(encoded)).load(), repeats)
    results[name] = dict(encode_seconds=encode_seconds,
                         decode_seconds=decode_seconds, bytes=len(encoded))
  return results


def parameter_counts():
  counts = {}
  for name in PRESETS:
    model = GenerativeCompressionModel(preset(name))
    counts[name] = export.parameter_counts(model)
    counts[name]["encoder+generator"] = (counts[name]["encoder"]
                                         + counts[name]["generator"])
  return counts


def codec_speed(model_dir, height, width, repeats):
  """Encode then decode through `tfgc.codec` (tiled above its memory
  budget), each in its own process (its own peak RSS)."""
  results = {}
  stream_file = os.path.join(model_dir, "image.tfgc")
  for operation in ("encode", "decode"):
    output = subprocess.run(
        [sys.executable, "-c", CODEC_RUN, operation, model_dir, stream_file,
         str(height), str(width), str(repeats),
         os.path.dirname(os.path.abspath(__file__))], capture_output=True,
        text=True, check=True).stdout.split()
    seconds, peak_mib = float(output[-3]), float(output[-2])
    results[operation] = dict(seconds=seconds, peak_rss_mib=peak_mib,
                              megapixels_per_second=height * width / 1e6
                              / seconds)
    if operation == "encode":
      results["bytes"] = int(output[-1])
  return results


def labeller_speed(repeats):
  """Load seconds and seconds per 768x512 photo of each labeller."""
  image = test_image(512, 768)
  results = {}
  for name in labellers.NAMES:
    start = time.perf_counter()
    labeller = labellers.get(name)
    load_seconds = time.perf_counter() - start
    _, seconds = timed(lambda: labeller.label(image), repeats)
    results[name] = dict(load_seconds=load_seconds,
                         seconds_per_768x512=seconds)
  return results


def input_pipeline_speed(folder, batch, crop, batches):
  """Batches per second of the training input pipeline alone (after the
  first pass, which decodes and caches)."""
  paths = data.scan_folder(folder, min_size=crop).paths
  iterator = iter(data.training_dataset(paths, crop, batch,
                                        max_short_side=768))
  for _ in range(len(paths)):
    next(iterator)
  start = time.perf_counter()
  for _ in range(batches):
    next(iterator)
  per_second = batches / (time.perf_counter() - start)
  return dict(batches_per_second=per_second,
              megapixels_per_second=per_second * batch * crop * crop / 1e6)


# The start-up command lines timed: name -> (arguments of `python`, the
# exit status expected).
START_UP = {
    "tfgc --help": (["-m", "tfgc", "--help"], 0),
    "tfgc train --help": (["-m", "tfgc", "train", "--help"], 0),
    "tfgc train, a flag mistake": (["-m", "tfgc", "train", "--stepz=1"], 1),
    "import tfgc, tensorflow": (["-c", "import tfgc, tensorflow"], 0),
}


def start_up_speed(repeats):
  """Median seconds of each START_UP command line in a fresh process, and
  its exit status."""
  results = {}
  for name, (arguments, expected) in START_UP.items():
    seconds, status = [], None
    for _ in range(repeats + 1):  # The first run warms the file cache.
      start = time.perf_counter()
      status = subprocess.run([sys.executable, *arguments],
                              capture_output=True).returncode
      seconds.append(time.perf_counter() - start)
    if status != expected:
      raise SystemExit(f"{name}: exit status {status}, expected {expected}")
    results[name] = dict(seconds=statistics.median(seconds[1:]),
                         exit_status=status)
  return results


def print_start_up(results):
  for name, r in results.items():
    print(f"{name}: {r['seconds']:.2f} s, exit status {r['exit_status']}")


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default="benchmarks/results/bench.json")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--train_steps", type=int, default=20)
  parser.add_argument("--skip_training", action="store_true",
                      help="keep the training figures of --out, measure "
                           "the rest")
  parser.add_argument("--start_up_only", action="store_true",
                      help="measure the commands' start-up alone, keeping "
                           "the other figures of --out")
  args = parser.parse_args()

  if args.start_up_only:
    with open(args.out) as f:
      results = json.load(f)
    results["start_up"] = start_up_speed(args.repeats)
    print_start_up(results["start_up"])
    with open(args.out, "w") as f:
      json.dump(results, f, indent=2)
    print(f"written to {args.out}")
    return

  results = dict(machine=dict(cpus=os.cpu_count(),
                              platform=platform.platform(),
                              tensorflow=tf.__version__),
                 training={})
  if args.skip_training:
    with open(args.out) as f:
      results["training"] = json.load(f)["training"]
  else:
    # Training first: building the 160 M-parameter `paper` model (for its
    # parameter count) slows everything that runs after it in this process.
    with tempfile.TemporaryDirectory() as folder:
      photo_folder(folder)
      print("training steps of the default recipe ...", flush=True)
      config, flags = train_step.recipe()
      for precision in PRECISIONS:
        results["training"][f"recipe_{precision}"] = train_step.measure(
            config, flags, folder, args.train_steps, args.repeats, precision)
      for crop in (128, 256):
        results["training"][f"input_pipeline_batch8_{crop}"] = (
            input_pipeline_speed(folder, 8, crop, 200))

  results["start_up"] = start_up_speed(args.repeats)
  results["parameters"] = parameter_counts()
  results["labellers"] = labeller_speed(args.repeats)
  results["codec"] = {}
  with tempfile.TemporaryDirectory() as model_dir:
    export.export(GenerativeCompressionModel(preset("small")), model_dir)
    for height, width in SIZES + (LARGE_SIZE,):
      size = f"{width}x{height}"
      print(f"timing {size} ...", flush=True)
      large = (height, width) == LARGE_SIZE
      tfgc = codec_speed(model_dir, height, width, 0 if large else args.repeats)
      results["codec"][size] = dict(tfgc_small=tfgc)
      if large:
        continue
      pillow = pillow_speed(height, width, args.repeats)
      for codec in pillow.values():
        codec["tfgc_encode_time_ratio"] = (tfgc["encode"]["seconds"]
                                           / codec["encode_seconds"])
        codec["tfgc_decode_time_ratio"] = (tfgc["decode"]["seconds"]
                                           / codec["decode_seconds"])
      results["codec"][size]["pillow"] = pillow
  print(f"{'preset':8} {'E':>12} {'G':>12} {'E+G':>12} {'D':>12}")
  for name, c in results["parameters"].items():
    print(f"{name:8} {c['encoder']:12,} {c['generator']:12,} "
          f"{c['encoder+generator']:12,} {c['discriminator']:12,}")
  print(f"\n{'size':10} {'op':7} {'tfgc s':>8} {'MP/s':>6} {'RSS MiB':>8}  "
        "time ratio tfgc/codec: jpeg, webp, avif")
  for size, r in results["codec"].items():
    for operation in ("encode", "decode"):
      t = r["tfgc_small"][operation]
      ratios = ", ".join(
          f"{c[f'tfgc_{operation}_time_ratio']:.0f}x"
          for c in r.get("pillow", {}).values()) or "(timed once)"
      print(f"{size:10} {operation:7} {t['seconds']:8.2f} "
            f"{t['megapixels_per_second']:6.2f} {t['peak_rss_mib']:8.0f}  "
            f"{ratios}")
  print()
  for precision in PRECISIONS:
    for phase, r in results["training"][f"recipe_{precision}"].items():
      print(f"default recipe training ({phase}, {precision}): "
            f"{r['steps_per_second']:.2f} steps/s, "
            f"{r['cpu_seconds_per_step']:.2f} CPU s/step")
  for crop in (128, 256):
    r = results["training"][f"input_pipeline_batch8_{crop}"]
    print(f"input pipeline alone, batch 8 of {crop} px: "
          f"{r['batches_per_second']:.1f} batches/s, "
          f"{r['megapixels_per_second']:.1f} MP/s")
  for name, r in results["labellers"].items():
    print(f"labeller {name}: {r['seconds_per_768x512']:.3f} s per 768x512 "
          f"photo, {r['load_seconds']:.1f} s to load")
  print_start_up(results["start_up"])
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(results, f, indent=2)
  print(f"written to {args.out}")


if __name__ == "__main__":
  main()
