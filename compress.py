"""Compress images to .tfgc bitstreams and back.

    python compress.py compress photo.jpg [photo.tfgc] [--model=NAME|DIR]
    python compress.py compress photos/ more.png      # many: one .tfgc each
    python compress.py compress photo.jpg --model=SC_MODEL \
        --labels=photo_labels.png --synthesize=7,8     # SC: paint 7 and 8
    python compress.py compress photo.jpg --model=sc-objects-c8 \
        --keep=person,animal    # bundled SC: labels people and things itself
    python compress.py decompress photo.tfgc [photo.png] [--seed=N]
                                  # with the bundled model that wrote it
    python compress.py decompress photos/             # every .tfgc in it
    python compress.py info photo.tfgc                # one JSON object

Errors print one line on stderr and exit with status 1; outputs are written
to a temporary file and renamed, so a failure, Ctrl-C or SIGTERM leaves
nothing behind, and existing files are kept unless --overwrite is given.
"""

import argparse
import functools
import json
import logging
import os
import signal
import sys
import warnings

# The CLI's stderr is for its own one-line messages: keep TensorFlow's
# start-up chatter out of it (set before TensorFlow is first imported).
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
for _name in ("tensorflow", "absl"):
  logging.getLogger(_name).setLevel(logging.ERROR)

from tfgc import codec as codec_lib  # noqa: E402
from tfgc import labeller_registry, labelmaps, zoo  # noqa: E402
from tfgc.errors import TfgcError  # noqa: E402
from tfgc.images import (DEFAULT_MAX_PIXELS, atomic_output,  # noqa: E402
                         check_output, list_files,
                         require_regular_file, save_png)
from tfgc.progress import tile_meter  # noqa: E402

PROGRAM = "compress.py"
# Labellers of fixed classes (the stand-in's regions are per image: models
# trained on them compute them themselves).
LABELLERS = tuple(labeller_registry.FIXED_CLASSES)


def _positive_int(text):
  """argparse type: a whole number >= 1."""
  try:
    value = int(text)
  except ValueError:
    value = 0
  if value < 1:
    raise argparse.ArgumentTypeError(f"must be a whole number >= 1, got "
                                     f"{text!r}")
  return value


def _model_arguments(parser, default):
  parser.add_argument(
      "--model", default=None,
      help="export directory written by train.py, or a bundled model's "
           f"name ({', '.join(zoo.names()) or 'none installed'}; "
           f"default: {default})")
  parser.add_argument(
      "--max_pixels", type=_positive_int, default=DEFAULT_MAX_PIXELS,
      help="refuse images larger than this many pixels (default "
           f"{DEFAULT_MAX_PIXELS:,}), a guard against decompression bombs")
  parser.add_argument(
      "--memory_budget_mib", type=_positive_int,
      default=codec_lib.DEFAULT_MEMORY_BUDGET_MIB,
      help="memory for the networks' activations; larger images are coded "
           "in tiles with the same result (default "
           f"{codec_lib.DEFAULT_MEMORY_BUDGET_MIB})")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace existing output files")


def build_parser():
  parser = argparse.ArgumentParser(
      prog=PROGRAM, description=__doc__.split("\n")[0],
      formatter_class=argparse.RawDescriptionHelpFormatter,
      epilog="\n".join(__doc__.split("\n")[2:]))
  commands = parser.add_subparsers(dest="command", required=True)
  compress = commands.add_parser(
      "compress", help="image(s) -> .tfgc",
      description="Compress images. With one image, an optional second "
                  "argument ending in .tfgc names the output; otherwise "
                  "each INPUT (files, or folders searched recursively) is "
                  "written beside itself with the suffix .tfgc.")
  compress.add_argument("inputs", nargs="+", metavar="INPUT")
  _model_arguments(compress, zoo.DEFAULT)
  selective = compress.add_argument_group(
      "selective compression (SC models)",
      "Preserved regions are coded faithfully; synthesised ones send no "
      "latents and are painted from the label map, which travels "
      "losslessly in the file (its bytes count in the bpp).")
  selective.add_argument(
      "--labels", metavar="LABELS.png",
      help="the image's label map: one class id per pixel, single-channel "
           "PNG (e.g. Cityscapes *_labelIds.png). Models trained on "
           "stand-in labels compute their own regions without it (colour "
           "and position clusters, NOT semantic segmentation)")
  selective.add_argument(
      "--labeller", choices=LABELLERS,
      help="label each image with this labeller instead of --labels ("
           + "; ".join(f"{name}: {', '.join(classes)}" for name, classes
                       in labeller_registry.FIXED_CLASSES.items())
           + "; their class names work in --synthesize, e.g. "
           "--synthesize=background,furniture). Models that "
           "record their labeller (see `info`) run it without this flag")
  selective.add_argument(
      "--synthesize", metavar="CLASS,...",
      help="class ids (or names: the model's labeller's, or --classes') "
           "to synthesise")
  selective.add_argument(
      "--keep", metavar="CLASS,...",
      help="class ids (or names) to keep faithful; every other class is "
           "synthesised, e.g. --keep=person")
  selective.add_argument(
      "--classes", metavar="FILE",
      help="class names, one per line; line 1 names class 0")
  selective.add_argument(
      "--preserve", metavar="MASK.png",
      help="mask image of the regions to preserve (nonzero); the rest is "
           "synthesised. Without --synthesize, --keep or --preserve "
           "everything is preserved")
  decompress = commands.add_parser(
      "decompress", help=".tfgc -> PNG",
      description="Decode .tfgc files to PNG. With one file, an optional "
                  "second argument ending in .png names the output; "
                  "otherwise each INPUT (files, or folders searched "
                  "recursively for .tfgc) is written beside itself with "
                  "the suffix .png.")
  decompress.add_argument("inputs", nargs="+", metavar="INPUT")
  decompress.add_argument("--seed", type=int, default=0,
                          help="seed of the synthesised noise (default 0); "
                               "other seeds give other plausible images")
  _model_arguments(decompress, "the bundled model that wrote the file")
  decompress.add_argument(
      "--max_pixels_per_byte", type=_positive_int,
      default=codec_lib.DEFAULT_MAX_PIXELS_PER_BYTE,
      help="refuse files declaring more pixels per byte of the file "
           f"(default {codec_lib.DEFAULT_MAX_PIXELS_PER_BYTE:,}, 0.0004 "
           "bpp): decoding synthesises every declared pixel, so this "
           "bounds the work an untrusted file causes. SC files that paint "
           "nearly everything from a near-uniform label map, above about "
           "1 Mpx, need it raised")
  info = commands.add_parser(
      "info", help="print a .tfgc file's header as JSON",
      description="Print format version, model id, mode, size, payload "
                  "bytes and bits per pixel as one JSON object; with the "
                  "model that wrote the file (--model, or the bundled one "
                  "of its id) also the model's name and, for SC, its "
                  "labeller and classes.")
  info.add_argument("input", metavar="INPUT.tfgc")
  info.add_argument("--model", help="the model that wrote the file (name "
                    "or export directory; default: the bundled one of the "
                    "file's model id, if any)")
  return parser


def _replace_suffix(path, suffix):
  return os.path.splitext(path)[0] + suffix


def _read(path):
  require_regular_file(path)
  try:
    with open(path, "rb") as f:
      return f.read()
  except OSError as e:
    raise TfgcError(f"{path}: {(e.strerror or str(e)).lower()}") from None


def _jobs(inputs, find, output_suffix):
  """(input, output) pairs: one input and an explicit output, or each input
  (files, or folders searched with `find`) beside itself with the suffix."""
  if (len(inputs) == 2 and inputs[1].endswith(output_suffix)
      and not os.path.isdir(inputs[0])):
    return [(inputs[0], inputs[1])]
  jobs = []
  for path in inputs:
    sources = find(path) if os.path.isdir(path) else [path]
    jobs.extend((source, _replace_suffix(source, output_suffix))
                for source in sources)
  if not jobs:
    raise TfgcError(f"nothing to do: no input files in {', '.join(inputs)}")
  sources_of = {}
  for source, target in jobs:
    sources_of.setdefault(target, []).append(source)
  for target, sources in sources_of.items():
    if len(sources) > 1:
      raise TfgcError(f"{' and '.join(sources)} would all write {target}; "
                      "give them separately with explicit output names")
  return jobs


def _naming_the_file(work):
  """`work` whose TfgcErrors name the job's input, unless they start with
  it or the output already (a bitstream's or an array's errors cannot)."""
  def run(source, target):
    try:
      return work(source, target)
    except TfgcError as e:
      if str(e).startswith(tuple(path + end for path in (source, target)
                                 for end in (":", " "))):
        raise
      raise TfgcError(f"{source}: {e}") from None
  return run


def _run_jobs(jobs, work):
  """Runs `work(source, target)` (-> the .tfgc header) for every job.

  One job: errors propagate (one line naming the file, exit 1). Several: a
  progress bar, failures reported and skipped, a summary line, exit 1 if
  any failed.
  """
  work = _naming_the_file(work)
  if len(jobs) == 1:
    (source, target), = jobs
    header = work(source, target)
    print(f"{source} -> {target}: {header['width']}x{header['height']}, "
          f"{header['file_bytes']} bytes, {header['bits_per_pixel']:.4f} bpp")
    return 0
  done, failed, total_bytes, bpps = 0, 0, 0, []
  for i, (source, target) in enumerate(jobs, 1):
    try:
      header = work(source, target)
    except TfgcError as e:
      failed += 1
      print(f"{PROGRAM}: {e}", file=sys.stderr)
      status = "failed"
    else:
      done += 1
      total_bytes += header["file_bytes"]
      bpps.append(header["bits_per_pixel"])
      status = f"{header['bits_per_pixel']:.4f} bpp"
    bar = "#" * (20 * i // len(jobs))
    print(f"[{bar:20}] {i}/{len(jobs)} {source}: {status}", flush=True)
  mean = sum(bpps) / len(bpps) if bpps else float("nan")
  print(f"{done} of {len(jobs)} files done, {total_bytes} bytes of .tfgc, "
        f"mean {mean:.4f} bpp" + (f", {failed} failed" if failed else ""))
  return 1 if failed else 0


def _selection(args, jobs):
  """The SC keyword arguments of `Codec.compress` given by the flags."""
  if len(jobs) > 1 and (args.labels or args.preserve):
    raise TfgcError("--labels and --preserve belong to one image; give one "
                    "input with them")
  return dict(
      labels=args.labels, labeller=args.labeller, preserve=args.preserve,
      synthesize=(args.synthesize.split(",") if args.synthesize is not None
                  else None),
      keep=args.keep.split(",") if args.keep is not None else None,
      class_names=(labelmaps.read_class_names(args.classes) if args.classes
                   else None))


def _model_loader(args, **limits):
  """`codec_lib.load` of a model (name or folder) with the flags' limits,
  once per model and only when a job first needs it: the jobs check their
  files first, so a bad input fails before a model loads (seconds,
  0.6 GB)."""
  @functools.cache
  def load(model):
    return codec_lib.load(model, args.max_pixels, args.memory_budget_mib,
                          **limits)
  return load


def run_compress(args):
  jobs = _jobs(args.inputs, list_files, ".tfgc")
  selection = _selection(args, jobs)
  load = _model_loader(args)
  # One image: its tiles on a terminal (several: the bar of _run_jobs).
  tiles = tile_meter(f"{PROGRAM}: encoding") if len(jobs) == 1 else None

  def work(source, target):
    check_output(target, args.overwrite)
    codec_lib.check_image_file(source, args.max_pixels)
    encoded = load(args.model).compress(source, **selection, progress=tiles)
    with atomic_output(target, args.overwrite) as temporary:
      with open(temporary, "wb") as f:
        f.write(encoded)
    return codec_lib.info(encoded)
  return _run_jobs(jobs, work)


def run_decompress(args):
  jobs = _jobs(args.inputs, lambda folder: list_files(folder, ".tfgc"),
               ".png")
  load = _model_loader(args, max_pixels_per_byte=args.max_pixels_per_byte)
  # One file: its tiles on a terminal (several: the bar of _run_jobs).
  tiles = tile_meter(f"{PROGRAM}: decoding") if len(jobs) == 1 else None

  def work(source, target):
    check_output(target, args.overwrite)
    encoded = _read(source)
    header = codec_lib.info(encoded, args.max_pixels,
                            args.max_pixels_per_byte)
    # --model, else the bundled model with the file's id (or the default,
    # which then names the mismatch).
    model = load(args.model or zoo.find(header["model_id"]))
    decoded = model.decompress(encoded, seed=args.seed, progress=tiles)
    with atomic_output(target, args.overwrite) as temporary:
      save_png(temporary, decoded)
    return header
  return _run_jobs(jobs, work)


def run_info(args):
  header = codec_lib.info(_read(args.input))
  model = args.model or zoo.find(header["model_id"])
  if model is not None:
    header.update(codec_lib.model_info(model, header["model_id"]))
  print(json.dumps(header))
  return 0


def _one_line_warning(message, category, filename, lineno, file=None,
                      line=None):
  print(f"{PROGRAM}: warning: {message}", file=sys.stderr)


def main(argv=None):
  """Entry point; returns the exit status (0 success, 1 failure)."""
  args = build_parser().parse_args(argv)
  warnings.showwarning = _one_line_warning
  # SIGTERM (`kill`, a service manager) stops a run like Ctrl-C: the output
  # being written is removed and one line says so.
  signal.signal(signal.SIGTERM, signal.default_int_handler)
  commands = dict(compress=run_compress, decompress=run_decompress,
                  info=run_info)
  try:
    return commands[args.command](args)
  except TfgcError as e:
    print(f"{PROGRAM}: {e}", file=sys.stderr)
  except KeyboardInterrupt:
    print(f"{PROGRAM}: interrupted", file=sys.stderr)
  except Exception as e:  # An unexpected failure still gets one line.
    print(f"{PROGRAM}: internal error: {type(e).__name__}: {e}",
          file=sys.stderr)
  return 1


if __name__ == "__main__":
  sys.exit(main())
