r"""Compress images to .tfgc bitstreams and back: `tfgc compress`,
`tfgc decompress` and `tfgc info` (`python compress.py ...` is the same).

    tfgc compress photo.jpg [out.tfgc] [--model=NAME|DIR]
    tfgc compress photos/ more.png          # many: one .tfgc each
    tfgc compress a.png b.png --out_dir=coded/
    tfgc compress photo.jpg --model=SC_MODEL \
        --labels=photo_labels.png --synthesize=7,8     # SC: paint 7 and 8
    tfgc compress photo.jpg --model=sc-objects-context-c8 \
        --keep=person,animal    # bundled SC: labels people and things itself
    tfgc decompress photo.tfgc              # -> photo.tfgc.png
    tfgc decompress photo.tfgc out.jpg      # or -o out.webp
    tfgc decompress photos/                 # every .tfgc in it
    tfgc compress - < photo.png > photo.tfgc    # - : stdin/stdout
    tfgc info photo.tfgc                    # one JSON object

Outputs: -o, or a second of two arguments named like an output (compress:
.tfgc; decompress: .png, .jpg, .webp, .tif, .bmp, choosing the format),
names the one output; every other argument is an input. Otherwise compress
writes NAME.tfgc beside NAME.png and decompress NAME.tfgc.png beside
NAME.tfgc (never the original's name), or into --out_dir. Errors print
one line on stderr and exit with status 1 (a mistake in the flags: the
command's usage, status 2); outputs are written to a
temporary file and renamed, so a failure, Ctrl-C or SIGTERM leaves
nothing behind, and existing files are kept unless --overwrite is given.
"""

import argparse
import dataclasses
import functools
import io
import json
import os
import signal
import sys
import warnings

import tfgc
from tfgc import bitstream, labeller_registry, labelmaps, quiet, zoo
from tfgc import codec as codec_lib  # Loads TensorFlow with a model.
from tfgc.cli.types import positive_int, unit_interval
from tfgc.errors import TfgcError
from tfgc.images import (DEFAULT_MAX_PIXELS, IMAGE_SUFFIXES, atomic_output,
                         check_output, is_grey, list_files, read_image,
                         require_regular_file, save_image, to_grey)
from tfgc.progress import tile_meter

PROGRAM = "tfgc"
# "-" in the arguments: the names jobs and messages give stdin and stdout.
STDIN, STDOUT = "<stdin>", "<stdout>"
# Labellers of fixed classes (the stand-in's regions are per image: models
# trained on them compute them themselves).
LABELLERS = tuple(labeller_registry.FIXED_CLASSES)


def _model_arguments(parser, default):
  parser.add_argument(
      "--model", default=None,
      help="export directory written by tfgc train, or a bundled model's "
           f"name ({', '.join(zoo.names()) or 'none installed'}; "
           f"default: {default})")
  parser.add_argument(
      "--max_pixels", type=positive_int, default=DEFAULT_MAX_PIXELS,
      help="refuse images larger than this many pixels (default "
           f"{DEFAULT_MAX_PIXELS:,}), a guard against decompression bombs")
  parser.add_argument(
      "--memory_budget_mib", type=positive_int,
      default=codec_lib.DEFAULT_MEMORY_BUDGET_MIB,
      help="memory for the networks' activations; larger images are coded "
           "in tiles with the same result (default "
           f"{codec_lib.DEFAULT_MEMORY_BUDGET_MIB})")
  parser.add_argument("--overwrite", action="store_true",
                      help="replace existing output files")


def _output_arguments(parser, naming):
  outputs = parser.add_mutually_exclusive_group()
  outputs.add_argument(
      "-o", "--output", metavar="OUTPUT",
      help=f"the output of the one input ({naming.kind}; - for stdout)")
  outputs.add_argument(
      "--out_dir", metavar="DIR",
      help="write the outputs into this folder (made if missing), named after "
           "their inputs' file names, instead of beside the inputs")


def build_parser():
  summary, _, examples = __doc__.partition("\n\n")
  parser = argparse.ArgumentParser(
      prog=PROGRAM, description=" ".join(summary.split()),
      formatter_class=argparse.RawDescriptionHelpFormatter, epilog=examples)
  parser.add_argument(
      "--version", action="version",
      version=f"%(prog)s {tfgc.__version__} (.tfgc format "
              f"{bitstream.VERSION})")
  commands = parser.add_subparsers(dest="command", required=True)
  compress = commands.add_parser(
      "compress", help="image(s) -> .tfgc",
      description="Compress images (INPUT: files, folders searched "
                  "recursively, or - for stdin). Each is written beside "
                  "itself as NAME.tfgc (stdin to stdout); `compress a.png "
                  "out.tfgc` (or -o out.tfgc; - for stdout) names the one "
                  "output instead, --out_dir puts them all in a folder. "
                  "Only a second of two arguments ending in .tfgc is an "
                  "output: `compress a.png b.png` compresses both.")
  compress.add_argument("inputs", nargs="+", metavar="INPUT")
  _output_arguments(compress, COMPRESS)
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
  selective.add_argument(
      "--allow_empty", action="store_true",
      help="write the file even when it keeps no pixel (all of it painted "
           "from the label map) or a --keep class is not in the image; "
           "without it that is refused, naming the classes found")
  decompress = commands.add_parser(
      "decompress", help=".tfgc -> image",
      description="Decode .tfgc files (INPUT: files, folders searched "
                  "recursively for .tfgc, or - for stdin). Each is written "
                  "beside itself as NAME.tfgc.png (stdin to stdout), never "
                  "the original photo's name; `decompress a.tfgc out.jpg` "
                  "(or -o out.jpg; - for stdout, as PNG) names the one "
                  "output instead, its suffix choosing the format (.png; "
                  ".jpg at quality 95; .webp, lossless; .tif; .bmp), "
                  "--out_dir puts them all in a folder. Only a second of "
                  "two arguments named like an image is an output.")
  decompress.add_argument("inputs", nargs="+", metavar="INPUT")
  _output_arguments(decompress, DECOMPRESS)
  decompress.add_argument(
      "--seed", type=int,
      help="seed of the generator's noise (default 0): other seeds give "
           "other plausible images from models with noise channels; "
           "models without them (the bundled ones) decode the same pixels "
           "whatever the seed, and a warning says so")
  decompress.add_argument(
      "--realism", type=unit_interval, metavar="R",
      help="models with the realism dial: r in [0, 1], from the MSE-trained "
           "decode (0: faithful, blurrier) to the fully generative one (1: "
           "sharp, synthesised detail); the same file decodes at any r "
           "(default: the model's, which `tfgc info FILE` shows)")
  decompress.add_argument(
      "--grayscale", action="store_true",
      help="write a greyscale image (the decoding's luma): for files of "
           "greyscale photos, which the models decode in colour, with "
           "tints (compress warns of them)")
  _model_arguments(decompress, "the bundled model that wrote the file")
  decompress.add_argument(
      "--max_pixels_per_byte", type=positive_int,
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
  info.add_argument("input", metavar="INPUT.tfgc", help="- for stdin")
  info.add_argument("--model", help="the model that wrote the file (name "
                    "or export directory; default: the bundled one of the "
                    "file's model id, if any)")
  for command in (compress, decompress, info):
    quiet.add_flag(command)
  parser.command_parsers = commands.choices
  return parser


@dataclasses.dataclass(frozen=True)
class Naming:
  """How a command names its files.

  kind: what its outputs are, for messages.
  reads_kind: what its inputs are, for messages.
  reads: suffixes of the files it searches folders for.
  writes: suffixes an output may have: the second of two arguments with
    one of them is the output, and no input may have one.
  suffix: the default output is the input with `suffix` in place of its
    own, or after it (`append`).
  """

  kind: str
  reads_kind: str
  reads: tuple
  writes: tuple
  suffix: str
  append: bool

  def is_output(self, name):
    return name == "-" or name.lower().endswith(self.writes)

  def default(self, path):
    return (path if self.append else os.path.splitext(path)[0]) + self.suffix


COMPRESS = Naming("a .tfgc file", "images (tfgc decompress decodes .tfgc "
                  "files)", IMAGE_SUFFIXES, (".tfgc",), ".tfgc", False)
# NAME.tfgc.png: a decoding never takes the name of the photo it came from.
DECOMPRESS = Naming("an image (.png, .jpg, .webp, .tif, .bmp)",
                    ".tfgc files (tfgc compress makes them from images)",
                    (".tfgc",), IMAGE_SUFFIXES, ".png", True)


def _inputs_and_output(args, naming):
  """The command's input arguments and its output (-o, or the second of
  two arguments named like an output; None if neither)."""
  inputs, output = list(args.inputs), args.output
  if output is None and len(inputs) == 2 and naming.is_output(inputs[1]):
    output = inputs.pop()
  last = inputs[-1]
  # Checked before the first input is coded: `compress a.png out.png`
  # would otherwise write a.tfgc and only then fail on out.png.
  if output is None and len(inputs) == 2 and not os.path.exists(last):
    raise TfgcError(f"{last}: no such input, nor an output name: name the "
                    f"output as {naming.kind}")
  for path in inputs:
    if path != "-" and naming.is_output(path):
      raise TfgcError(f"{path}: this command reads {naming.reads_kind} "
                      f"and writes {naming.kind}: to name the output, give "
                      "it after one input or as -o")
  if output is not None and not naming.is_output(output):
    raise TfgcError(f"{output}: name the output as {naming.kind}, or - "
                    "for stdout")
  return inputs, output


def _one_job(inputs, output, out_dir):
  """The job of one input to `output` ("-" or None: stdout)."""
  if len(inputs) > 1 or os.path.isdir(inputs[0]):
    raise TfgcError(f"{output or '- (stdin)'} takes one input file; for "
                    "several, drop it (and use --out_dir)")
  if output is None and out_dir is not None:
    raise TfgcError("stdin has no name to put in --out_dir: name its "
                    "output with -o")
  source = STDIN if inputs[0] == "-" else inputs[0]
  return source, STDOUT if output in (None, "-") else output


def _placed(source, out_dir):
  """`source`'s output before its suffix: beside it, or in `out_dir`."""
  if out_dir is None:
    return source
  return os.path.join(out_dir, os.path.basename(source))


def _check_distinct(jobs):
  """TfgcError if two jobs would write the same output."""
  sources_of = {}
  for source, target in jobs:
    sources_of.setdefault(target, []).append(source)
  for target, sources in sources_of.items():
    if len(sources) > 1:
      raise TfgcError(f"{' and '.join(sources)} would all write {target}; "
                      "give them separately with explicit output names")


def _jobs(args, naming):
  """(input, output) pairs of the command's arguments, STDIN and STDOUT
  for "-": one input and its output, or each input (files, or folders
  searched for `naming.reads`) named by `naming.default`."""
  inputs, output = _inputs_and_output(args, naming)
  if output is not None or "-" in inputs:
    return [_one_job(inputs, output, args.out_dir)]
  if args.out_dir is not None:
    try:
      os.makedirs(args.out_dir, exist_ok=True)
    except OSError as e:
      raise TfgcError(f"--out_dir={args.out_dir}: "
                      f"{(e.strerror or str(e)).lower()}") from None
  jobs = [(source, naming.default(_placed(source, args.out_dir)))
          for path in inputs for source in _found(path, naming)]
  if not jobs:
    raise TfgcError(f"nothing to do: no input files in {', '.join(inputs)}")
  _check_distinct(jobs)
  return jobs


def _found(path, naming):
  """The inputs an argument names: the file, or the files of a folder
  `naming` reads; a folder's decodings (NAME.tfgc.png) are not compressed
  again, and a warning counts them."""
  if not os.path.isdir(path):
    return [path]
  found = list_files(path, naming.reads)
  if naming is not COMPRESS:
    return found
  sources = [f for f in found
             if not os.path.splitext(f)[0].lower().endswith(".tfgc")]
  if len(sources) < len(found):
    warnings.warn(f"{path}: {len(found) - len(sources)} decodings "
                  "(NAME.tfgc.png ...) left out")
  return sources


def _read(path):
  """The bytes of the file `path`, or of stdin (STDIN)."""
  if path == STDIN:
    return sys.stdin.buffer.read()
  require_regular_file(path)
  try:
    with open(path, "rb") as f:
      return f.read()
  except OSError as e:
    raise TfgcError(f"{path}: {(e.strerror or str(e)).lower()}") from None


def _check_target(target, overwrite):
  """TfgcError unless `target` (a path, or STDOUT) can be written."""
  if target != STDOUT:
    check_output(target, overwrite)
    return
  if sys.stdout.isatty():
    raise TfgcError("will not write binary data to a terminal: redirect "
                    "stdout, or name an output file")


def _write(target, overwrite, write):
  """Calls `write(f)` with a binary file for `target`: STDOUT, or a path
  (a temporary file beside it, renamed on success)."""
  if target == STDOUT:
    write(sys.stdout.buffer)
    sys.stdout.buffer.flush()
    return
  with atomic_output(target, overwrite) as temporary:
    with open(temporary, "wb") as f:
      write(f)


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
    # With the output on stdout, the report goes beside the messages.
    print(f"{source} -> {target}: {header['width']}x{header['height']}, "
          f"{header['file_bytes']} bytes, {header['bits_per_pixel']:.4f} bpp",
          file=sys.stderr if target == STDOUT else sys.stdout)
    return 0
  done, failed, total_bytes, total_pixels = 0, 0, 0, 0
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
      total_pixels += header["width"] * header["height"]
      status = f"{header['bits_per_pixel']:.4f} bpp"
    bar = "#" * (20 * i // len(jobs))
    print(f"[{bar:20}] {i}/{len(jobs)} {source}: {status}", flush=True)
  # All files' bits over all their pixels: a mean of per-file bpp would
  # let a 1x1 image's header outweigh every photo.
  rate = (f", {8 * total_bytes / total_pixels:.4f} bpp over all"
          if total_pixels else "")
  print(f"{done} of {len(jobs)} files done, {total_bytes} bytes of .tfgc"
        + rate + (f", {failed} failed" if failed else ""))
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
                   else None),
      allow_empty=args.allow_empty)


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


def _input_image(source, max_pixels):
  """The image file `source`, or stdin (STDIN), as uint8 [H, W, 3], its
  header checked first; a warning if it is greyscale."""
  name = source
  if source == STDIN:
    source = io.BytesIO(_read(STDIN))
    source.name = STDIN  # For messages.
  codec_lib.check_image_file(source, max_pixels)
  image = read_image(source, max_pixels)
  if is_grey(image):
    # The format has no room to record it: the decoder cannot know.
    warnings.warn(f"{name} is greyscale and the model codes colour, so its "
                  "decoding may be tinted: decompress it with --grayscale")
  return image


def run_compress(args):
  jobs = _jobs(args, COMPRESS)
  selection = _selection(args, jobs)
  load = _model_loader(args)
  # One image: its tiles on a terminal (several: the bar of _run_jobs).
  tiles = tile_meter(f"{PROGRAM}: encoding") if len(jobs) == 1 else None

  def work(source, target):
    _check_target(target, args.overwrite)
    image = _input_image(source, args.max_pixels)
    encoded = load(args.model).compress(image, **selection, progress=tiles)
    _write(target, args.overwrite, lambda f: f.write(encoded))
    return codec_lib.info(encoded)
  return _run_jobs(jobs, work)


def _writer(model_id):
  """The bundled model of `model_id`; without one, a ModelError before
  any model loads."""
  name = zoo.find(model_id)
  if name is None:
    raise zoo.ModelError(f"the file was written by model {model_id}, which "
                         "is not bundled: pass its export directory with "
                         "--model")
  return name


def run_decompress(args):
  jobs = _jobs(args, DECOMPRESS)
  load = _model_loader(args, max_pixels_per_byte=args.max_pixels_per_byte)
  # One file: its tiles on a terminal (several: the bar of _run_jobs).
  tiles = tile_meter(f"{PROGRAM}: decoding") if len(jobs) == 1 else None

  def work(source, target):
    _check_target(target, args.overwrite)
    encoded = _read(source)
    header = codec_lib.info(encoded, args.max_pixels,
                            args.max_pixels_per_byte)
    name = args.model or _writer(header["model_id"])
    model = load(name)
    if args.seed is not None and not model.noise_channels:
      warnings.warn(f"--seed changes nothing: {name} has no noise channels "
                    "(every seed decodes the same pixels)")
    decoded = model.decompress(encoded, seed=args.seed or 0, progress=tiles,
                               realism=args.realism)
    if args.grayscale:
      decoded = to_grey(decoded)
    suffix = ".png" if target == STDOUT else os.path.splitext(target)[1]
    _write(target, args.overwrite,
           lambda f: save_image(f, decoded, suffix))
    return header
  return _run_jobs(jobs, work)


def run_info(args):
  source = STDIN if args.input == "-" else args.input
  try:
    header = codec_lib.info(_read(source))
    model = args.model or zoo.find(header["model_id"])
    if model is not None:
      header.update(codec_lib.model_info(model, header["model_id"]))
  except TfgcError as e:
    message = str(e)
    raise TfgcError(message if message.startswith(f"{source}:")
                    else f"{source}: {message}") from None
  print(json.dumps(header))
  return 0


def _one_line_warning(message, category, filename, lineno, file=None,
                      line=None):
  print(f"{PROGRAM}: warning: {message}", file=sys.stderr)


def parse_arguments(argv):
  """`argv` (default sys.argv[1:]) as the command's arguments: its flags
  and file names in any order (`compress a.png --model=M out.tfgc`), and
  a mistake answered with that command's usage."""
  argv = sys.argv[1:] if argv is None else list(argv)
  parser = build_parser()
  if argv and argv[0] in parser.command_parsers:
    args = parser.command_parsers[argv[0]].parse_intermixed_args(argv[1:])
    args.command = argv[0]
    return args
  return parser.parse_args(argv)


def main(argv=None):
  """Entry point; returns the exit status (0 success, 1 failure)."""
  args = parse_arguments(argv)
  quiet.configure(args.verbose)
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


