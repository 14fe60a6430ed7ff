"""Core figures: parameter counts, `small` encode/decode at 1080p, train step.

    python benchmarks/bench_core.py --out benchmarks/results/core.json

Encode and decode run in fresh processes (one per operation) on the
exported SavedModel, so peak RSS is that operation's. Timings are medians
of repeated runs after one warm-up run. Weights are untrained: speed and
memory do not depend on their values.
"""

import argparse
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

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from tfgc import export  # noqa: E402
from tfgc.config import PRESETS, preset  # noqa: E402
from tfgc.model import GenerativeCompressionModel  # noqa: E402

CODEC_RUN = """
import resource, statistics, sys, time
import numpy as np
import tensorflow as tf
import tensorflow_compression
operation, model_dir, strings_file, height, width, repeats = sys.argv[1:]
height, width, repeats = int(height), int(width), int(repeats)
model = tf.saved_model.load(model_dir)
if operation == "encode":
  image = tf.constant(np.random.default_rng(0).integers(
      0, 256, (height, width, 3), np.uint8))
  run = lambda: model.signatures["compress"](image=image)
  strings = run()
  np.savez(strings_file, **{k: np.array(v.numpy()) for k, v in strings.items()})
else:
  strings = {k: tf.constant(v.item() if v.dtype == object else v)
             for k, v in np.load(strings_file, allow_pickle=True).items()}
  run = lambda: model.signatures["decompress"](**strings)
run()
times = []
for _ in range(repeats):
  start = time.perf_counter()
  run()
  times.append(time.perf_counter() - start)
print(statistics.median(times),
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


def parameter_counts():
  counts = {}
  for name in PRESETS:
    model = GenerativeCompressionModel(preset(name))
    counts[name] = export.parameter_counts(model)
    counts[name]["encoder+generator"] = (counts[name]["encoder"]
                                         + counts[name]["generator"])
  return counts


def codec_speed(model_dir, height, width, repeats):
  """Encode then decode, each in its own process (its own peak RSS)."""
  results = {}
  strings_file = os.path.join(model_dir, "strings.npz")
  for operation in ("encode", "decode"):
    output = subprocess.run(
        [sys.executable, "-c", CODEC_RUN, operation, model_dir, strings_file,
         str(height), str(width), str(repeats)], capture_output=True,
        text=True, check=True).stdout.split()
    seconds, peak_mib = float(output[-2]), float(output[-1])
    results[operation] = dict(seconds=seconds, peak_rss_mib=peak_mib,
                              megapixels_per_second=height * width / 1e6
                              / seconds)
  return results


def train_step_time(batch, crop, steps):
  """Seconds per step in warm-up (no D) and adversarial phases."""
  images = tf.constant(np.random.default_rng(0).integers(
      0, 256, (batch, crop, crop, 3), np.uint8))
  dataset = tf.data.Dataset.from_tensors(images).repeat()
  results = {}
  for phase, warmup in (("warmup", 10 ** 9), ("adversarial", 0)):
    model = GenerativeCompressionModel(
        preset("small").replace(warmup_steps=warmup))
    model.compile()
    model.fit(dataset, epochs=1, steps_per_epoch=2, verbose=0)
    start = time.perf_counter()
    model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0)
    seconds = (time.perf_counter() - start) / steps
    results[phase] = dict(seconds_per_step=seconds,
                          megapixels_per_second=batch * crop * crop / 1e6
                          / seconds)
  return results


def main():
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--out", default="benchmarks/results/core.json")
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--train_steps", type=int, default=20)
  args = parser.parse_args()

  results = dict(machine=dict(cpus=os.cpu_count(),
                              platform=platform.platform(),
                              tensorflow=tf.__version__),
                 parameters=parameter_counts())
  with tempfile.TemporaryDirectory() as model_dir:
    export.export(GenerativeCompressionModel(preset("small")), model_dir)
    results["small_1920x1080"] = codec_speed(model_dir, 1080, 1920,
                                             args.repeats)
  results["small_train_step_batch8_128"] = train_step_time(
      8, 128, args.train_steps)

  print(f"{'preset':8} {'E':>12} {'G':>12} {'E+G':>12} {'D':>12}")
  for name, c in results["parameters"].items():
    print(f"{name:8} {c['encoder']:12,} {c['generator']:12,} "
          f"{c['encoder+generator']:12,} {c['discriminator']:12,}")
  for operation, r in results["small_1920x1080"].items():
    print(f"small {operation} 1920x1080: {r['seconds']:.2f} s, "
          f"{r['megapixels_per_second']:.2f} MP/s, peak RSS "
          f"{r['peak_rss_mib']:.0f} MiB")
  for phase, r in results["small_train_step_batch8_128"].items():
    print(f"small train step ({phase}), batch 8 of 128x128: "
          f"{r['seconds_per_step']:.3f} s/step, "
          f"{r['megapixels_per_second']:.2f} MP/s")
  os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
  with open(args.out, "w") as f:
    json.dump(results, f, indent=2)
  print(f"written to {args.out}")


if __name__ == "__main__":
  main()
