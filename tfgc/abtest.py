"""Blind A/B comparisons: sheets for raters, a key kept apart, and scores.

    python -m tfgc.abtest sheets --images=PHOTOS --model=gc-small-c8 \
        --against=x265:1,x265:2,RUN/export --out=SHEETS --key=KEY.json
    python -m tfgc.abtest merge --out=SHEETS --key=KEY.json \
        SHEETS1:KEY1.json SHEETS2:KEY2.json
    python -m tfgc.abtest score --key=KEY.json ANSWERS.json ...

`sheets` compresses each photo (downscaled so its shorter side is at most
--max_short_side) with the model into a real file and decodes it, makes
each opponent's decode, and writes one sheet per photo and opponent:
the original on top, the two decodes below as A and B in a seeded random
order, nothing else on it (no names, no rates). Sheets are numbered in a
seeded random order across opponents. The key (which is which, and the
files' sizes) goes to --key, which must lie outside the sheets folder:
give raters the sheets folder only.

An opponent is `CODEC:F` (a classical codec of `tfgc.baselines` at the
largest file of at most F times the model's bytes on that photo; when the
codec cannot go that low its smallest file is used and the key says so)
or a model (a bundled name or an export folder, at its own rate).

A model with the realism dial can be shown at several r
(--realism=0,0.5,1): one file per photo, decoded at each r, and a sheet
per r and opponent; each comparison is named "MODEL at r=R vs ...". The
opponent `r=R` is the same file decoded at r = R (--realism=1
--against=r=0: which end of the dial raters would rather keep).

An SC model can be shown painting some classes (--synthesize=background:
its own labeller's map, everything else kept), named "MODEL painting
CLASSES"; photos where that keeps nothing or paints nothing get no
sheet. The same model as an opponent codes everything kept, so
`--against=MODEL,gc-small-c8,x265:1` asks whether the painted file beats
the all-kept one, the GC model's and x265's at the same bytes; an
opponent `OTHER@painted` is another SC model painting the same classes.

`merge` puts several sheet sets (e.g. one at --realism=0,0.5,1 against
x265, one at r = 1 against r = 0 and the bundled model) into one folder
for one round, renumbered in one seeded random order, with one key.

`score` reads the raters' answer files, each a JSON object of sheet
number -> "A" or "B" (the copy they would rather keep in place of the
original), and prints per comparison how many votes and how many photos
(by majority of the raters) the model won.
"""

import argparse
import itertools
import json
import os
import random
import shutil
import sys

from PIL import Image, ImageDraw, ImageFont

from tfgc import baselines, codec as codec_lib, data
from tfgc.cli.types import unit_interval
from tfgc.errors import TfgcError
from tfgc.images import list_files

LABEL_HEIGHT = 40


# An SC opponent painting the classes the model paints: MODEL@painted.
PAINTED = "@painted"


def painting(synthesize):
  """The name suffix of an SC decode painting `synthesize` (classes; none:
  "")."""
  return f" painting {','.join(map(str, synthesize))}" if synthesize else ""


def opponent_name(spec, model_name, synthesize=None):
  """The display name of an --against entry: "x265 <= 2x", the other
  model's (+ " painting CLASSES" for MODEL@painted), or "MODEL at r=R"
  for the model itself at another r."""
  if spec.startswith("r="):
    return f"{model_name} at r={float(spec[2:]):g}"
  if spec.endswith(PAINTED):
    return (os.path.basename(os.path.normpath(spec[:-len(PAINTED)]))
            + painting(synthesize))
  name, _, factor = spec.partition(":")
  if factor:
    return f"{name} <= {factor}x"
  return os.path.basename(os.path.normpath(spec))


def parse_opponent(spec):
  """--against entry -> ("codec", name, factor), ("model", path, None),
  ("painted", path, None) or ("realism", r, None)."""
  if spec.endswith(PAINTED):
    return "painted", codec_lib.resolve(spec[:-len(PAINTED)]), None
  if spec.startswith("r="):
    try:
      return "realism", unit_interval(spec[2:]), None
    except argparse.ArgumentTypeError:
      raise TfgcError(f"--against={spec}: r must be a number in [0, 1], "
                      "e.g. r=0") from None
  name, colon, factor = spec.partition(":")
  if colon:
    if name not in baselines.CODECS:
      raise TfgcError(f"unknown codec {name!r} in --against={spec}; choose "
                      f"from {', '.join(baselines.CODECS)}")
    try:
      factor = float(factor)
    except ValueError:
      factor = 0
    if factor <= 0:
      raise TfgcError(f"--against={spec}: the size factor after ':' must be "
                      "a positive number, e.g. x265:1")
    return "codec", name, factor
  return "model", codec_lib.resolve(spec), None


def sheet(original, first, second):
  """Original on top, then A and B: uint8 [H, W, 3] each -> one image,
  each labelled in a band above it."""
  height, width = original.shape[:2]
  canvas = Image.new("RGB", (width, 3 * (height + LABEL_HEIGHT)), "white")
  draw = ImageDraw.Draw(canvas)
  font = ImageFont.load_default(size=28)
  for i, (label, pixels) in enumerate((("Original", original), ("A", first),
                                       ("B", second))):
    top = i * (height + LABEL_HEIGHT)
    draw.text((8, top + 4), label, fill="black", font=font)
    canvas.paste(Image.fromarray(pixels), (0, top + LABEL_HEIGHT))
  return canvas


def _decodes(image, model, opponents, realisms, selection=None):
  """The model's decode at each r of `realisms` (None: its default) and
  each opponent's (spec -> (kind, target, factor); target: a codec's
  name, a loaded model, (loaded model, its selection) for MODEL@painted,
  or r): {spec: (bytes, pixels, reached)}; the model's entries are under
  its r. `selection`: the SC model's regions to paint (None:
  its defaults)."""
  encoded = model.compress(image, selection=selection)
  result = {("model", r): (len(encoded), model.decompress(encoded, realism=r),
                           True)
            for r in realisms}
  for spec, (kind, target, factor) in opponents.items():
    if kind == "codec":
      bpp = factor * 8 * len(encoded) / (image.shape[0] * image.shape[1])
      found = baselines.at_bpp(target, image, bpp)
      result[spec] = (len(found.data), baselines.decode(target, found.data),
                      found.reached)
    elif kind == "realism":
      result[spec] = result.get(("model", target)) or (
          len(encoded), model.decompress(encoded, realism=target), True)
    else:
      other, regions = target if kind == "painted" else (target, None)
      encoded_other = other.compress(image, selection=regions)
      result[spec] = (len(encoded_other), other.decompress(encoded_other),
                      True)
  return result


def _apart(out, key_path):
  """The sheets folder and key path, absolute; refuses a key inside the
  folder raters are given."""
  out, key_path = os.path.abspath(out), os.path.abspath(key_path)
  if os.path.commonpath([out, key_path]) == out:
    raise TfgcError(f"--key={key_path} is inside the sheets folder {out}: "
                    "put the key where raters will not see it")
  return out, key_path


def _write_key(key, key_path):
  os.makedirs(os.path.dirname(key_path), exist_ok=True)
  with open(key_path, "w") as f:
    json.dump(key, f, indent=2)


def _painting_selection(model, name, synthesize):
  """The `RegionSelection` of the SC `model` (named `name`) that paints
  `synthesize`; TfgcError for a GC model."""
  if not model.selective:
    raise TfgcError(f"{name} is a GC model: --synthesize needs an SC model")
  return model.select_regions(synthesize=synthesize)


def _paints_and_keeps(selection, image):
  """Whether the SC `selection` paints some of `image` and keeps some."""
  found = selection.select(image)
  try:
    selection.check_kept(found)
  except TfgcError:
    return False
  return bool(found.synthesis_mask.any())


def make_sheets(images_dir, model_path, against, out, key_path, seed=0,
                max_short_side=768, log=print, realisms=(None,),
                synthesize=None):
  """Writes the sheets to `out` and the key to `key_path`; returns the key.
  `realisms`: the r each model decode is shown at (None: the model's
  default), for models with the realism dial. `synthesize`: classes an SC
  model paints (ids or its labeller's names; None: everything kept)."""
  out, key_path = _apart(out, key_path)
  opponents = {}
  for spec in against:  # Models as loaded codecs, loaded once.
    kind, target, factor = parse_opponent(spec)
    if kind == "painted" and not synthesize:
      raise TfgcError(f"--against={spec} paints the classes of "
                      "--synthesize: give them")
    if kind in ("model", "painted"):
      target = codec_lib.load(target)
    if kind == "painted":
      target = (target, _painting_selection(target, spec, synthesize))
    opponents[spec] = (kind, target, factor)
  if not opponents:
    raise TfgcError("--against names no opponent, e.g. --against=x265:1")
  paths = list_files(images_dir)
  if not paths:
    raise TfgcError(f"no images in {images_dir}")
  model = codec_lib.load(model_path)
  if model.default_realism is None and (
      realisms != (None,) or any(k == "realism" for k, _, _ in
                                 opponents.values())):
    raise TfgcError(f"{model_path} has no realism dial: drop --realism "
                    "and r= opponents")
  model_name = os.path.basename(os.path.normpath(model_path))
  selection = None
  if synthesize:
    selection = _painting_selection(model, model_path, synthesize)
    model_name += painting(synthesize)
  def shown_name(r):
    r = model.default_realism if r is None else r
    return model_name if r is None else f"{model_name} at r={r:g}"
  shown = {r: shown_name(r) for r in realisms}
  # Scores tell the sides apart by name (an r= opponent named as a shown r
  # is left out below).
  names = [opponent_name(spec, model_name, synthesize) for spec in opponents]
  for spec, name in zip(opponents, names):
    if names.count(name) > 1 or (opponents[spec][0] != "realism"
                                 and name in shown.values()):
      raise TfgcError(f"two sides would both be named {name!r}: give each "
                      "model a folder of its own name, each opponent once")
  # A sheet per r and opponent, but never an r against itself.
  pairs = [(r, spec) for r, spec in itertools.product(realisms, opponents)
           if opponents[spec][0] != "realism"
           or opponents[spec][1] != (model.default_realism if r is None
                                     else r)]
  if not pairs:
    raise TfgcError("every r= opponent is the r shown: give --realism "
                    "another r to compare with")
  if selection is not None:
    selections = [selection] + [target[1] for kind, target, _ in
                                opponents.values() if kind == "painted"]
    kept = []
    for path in paths:
      image = data.load_rgb(path, max_short_side)
      if all(_paints_and_keeps(s, image) for s in selections):
        kept.append(path)
    for path in sorted(set(paths) - set(kept)):
      log(f"{os.path.relpath(path, images_dir)}: no sheet (the "
          f"{model.labeller or 'label'} map leaves nothing to keep or "
          "nothing to paint)")
    paths = kept
    if not paths:
      raise TfgcError(f"no photo in {images_dir} has both something to "
                      "keep and something to paint")
  rng = random.Random(seed)
  numbers = list(range(1, len(paths) * len(pairs) + 1))
  rng.shuffle(numbers)
  width = len(str(len(numbers)))
  os.makedirs(out, exist_ok=True)
  sheets = {}
  for i, path in enumerate(paths):
    image = data.load_rgb(path, max_short_side)
    image_name = os.path.relpath(path, images_dir)
    decodes = _decodes(image, model, opponents, realisms, selection)
    for realism, spec in pairs:
      number = f"{numbers.pop():0{width}d}"
      sides = [("model", realism), spec]
      rng.shuffle(sides)
      names = [shown[s[1]] if isinstance(s, tuple)
               else opponent_name(s, model_name, synthesize) for s in sides]
      sheet(image, decodes[sides[0]][1], decodes[sides[1]][1]).save(
          os.path.join(out, f"{number}.png"))
      sheets[number] = dict(
          image=image_name, model=shown[realism],
          comparison=(f"{shown[realism]} vs "
                      f"{opponent_name(spec, model_name, synthesize)}"),
          A=names[0], B=names[1],
          bytes={names[k]: decodes[s][0] for k, s in enumerate(sides)},
          opponent_reached_size=decodes[spec][2])
    log(f"{i + 1}/{len(paths)} {image_name}")
  key = dict(model=model_name, seed=seed, max_short_side=max_short_side,
             sheets=dict(sorted(sheets.items())))
  if synthesize:
    key["synthesize"] = list(synthesize)
  _write_key(key, key_path)
  return key


def merge_sheets(sets, out, key_path, seed=0):
  """Copies the sheets of `sets` ([(sheets folder, key path)]) into `out`,
  renumbered in one seeded random order, and writes their joint key to
  `key_path`; returns it."""
  out, key_path = _apart(out, key_path)
  sheets, models = [], []
  for folder, path in sets:
    key = _load_json(path)
    models.append(key["model"])
    for number, entry in key["sheets"].items():
      picture = os.path.join(folder, f"{number}.png")
      if not os.path.isfile(picture):
        raise TfgcError(f"{folder} has no sheet {number}.png of {path}")
      # Keys written before the realism dial name the model once.
      sheets.append((picture, dict(entry, model=entry.get("model",
                                                           key["model"]))))
  numbers = list(range(1, len(sheets) + 1))
  random.Random(seed).shuffle(numbers)
  width = len(str(len(sheets)))
  os.makedirs(out, exist_ok=True)
  merged = {}
  for number, (picture, entry) in zip(numbers, sheets):
    number = f"{number:0{width}d}"
    shutil.copyfile(picture, os.path.join(out, f"{number}.png"))
    merged[number] = entry
  key = dict(model=models[0], seed=seed,
             merged=[dict(sheets=folder, key=path) for folder, path in sets],
             sheets=dict(sorted(merged.items())))
  _write_key(key, key_path)
  return key


def score(key, answers):
  """Per comparison: the model's votes and photos won.

  Args:
    key: the dict `make_sheets` wrote.
    answers: list of dicts, one per rater: sheet number -> "A" or "B".

  Returns:
    {comparison: dict(model, votes, of_votes, photos, of_photos,
    opponent_too_large)}; `model` is its model side's name; a photo
    counts for the side more than half of the raters who answered it
    chose (ties for neither).
  """
  result = {}
  for number, entry in key["sheets"].items():
    # Keys written before the realism dial name the model once.
    model = entry.get("model", key["model"])
    tally = result.setdefault(entry["comparison"], dict(
        model=model, votes=0, of_votes=0, photos=0, of_photos=0,
        opponent_too_large=0))
    votes = [rater[number] for rater in answers if number in rater]
    for vote in votes:
      if vote not in ("A", "B"):
        raise TfgcError(f"sheet {number}: answer {vote!r} is not A or B")
    won = sum(entry[vote] == model for vote in votes)
    tally["votes"] += won
    tally["of_votes"] += len(votes)
    tally["photos"] += 2 * won > len(votes)
    tally["of_photos"] += bool(votes)
    tally["opponent_too_large"] += not entry["opponent_reached_size"]
  return result


def _realisms(text):
  """--realism's value -> a tuple of r in [0, 1], (None,) if empty."""
  if not text:
    return (None,)
  try:
    return tuple(unit_interval(r) for r in text.split(","))
  except argparse.ArgumentTypeError:
    raise TfgcError(f"--realism={text}: give numbers in [0, 1], e.g. "
                    "--realism=0,0.5,1") from None


def _load_json(path):
  try:
    with open(path) as f:
      return json.load(f)
  except (OSError, ValueError) as e:
    raise TfgcError(f"cannot read {path}: {e}") from None


def main(argv):
  parser = argparse.ArgumentParser(
      prog="python -m tfgc.abtest", description=__doc__.split("\n")[0],
      formatter_class=argparse.RawDescriptionHelpFormatter,
      epilog="\n".join(__doc__.split("\n")[2:]))
  commands = parser.add_subparsers(dest="command", required=True)
  make = commands.add_parser("sheets", help="write sheets and their key")
  make.add_argument("--images", required=True, help="folder of photos")
  make.add_argument("--model", default=None,
                    help="bundled name or export folder (default: the "
                         "bundled default)")
  make.add_argument("--against", default="x265:1",
                    help="comma-separated opponents: CODEC:F (at most F "
                         "times the model's bytes), models, or r=R (the "
                         "same file decoded at realism R)")
  make.add_argument("--out", required=True, help="the sheets folder")
  make.add_argument("--key", required=True,
                    help="JSON file of the key, outside --out")
  make.add_argument("--seed", type=int, default=0)
  make.add_argument("--max_short_side", type=int, default=768)
  make.add_argument("--realism", default="",
                    help="models with the realism dial: comma-separated r "
                         "in [0, 1] to show the model's decode at, one "
                         "sheet per r and opponent (default: its default "
                         "r)")
  make.add_argument("--synthesize", default="",
                    help="SC models: comma-separated classes to paint (ids "
                         "or the labeller's names, e.g. background), on "
                         "the map the model's labeller makes; photos "
                         "with nothing to keep or paint get no sheet")
  joined = commands.add_parser("merge", help="join sheet sets for one round")
  joined.add_argument("--out", required=True, help="the merged sheets folder")
  joined.add_argument("--key", required=True,
                      help="JSON file of the joint key, outside --out")
  joined.add_argument("--seed", type=int, default=0)
  joined.add_argument("sets", nargs="+",
                      help="SHEETS_FOLDER:KEY.json of each set to join")
  tally = commands.add_parser("score", help="score the raters' answers")
  tally.add_argument("--key", required=True)
  tally.add_argument("answers", nargs="+",
                     help='JSON files of {"01": "A", ...}, one per rater')
  args = parser.parse_args(argv)
  try:
    if args.command == "sheets":
      key = make_sheets(args.images, codec_lib.resolve(args.model),
                        [s for s in args.against.split(",") if s], args.out,
                        args.key, args.seed, args.max_short_side,
                        realisms=_realisms(args.realism),
                        synthesize=[c for c in args.synthesize.split(",")
                                    if c] or None)
      print(f"{len(key['sheets'])} sheets in {args.out}/, key in {args.key}")
      return 0
    if args.command == "merge":
      sets = [spec.rpartition(":")[::2] for spec in args.sets]
      if not all(all(part) for part in sets):
        raise TfgcError("give each set as SHEETS_FOLDER:KEY.json")
      key = merge_sheets(sets, args.out, args.key, args.seed)
      print(f"{len(key['sheets'])} sheets in {args.out}/, key in {args.key}")
      return 0
    key = _load_json(args.key)
    for comparison, t in score(key, [_load_json(a) for a in
                                     args.answers]).items():
      note = (f" (the opponent could not go as low on "
              f"{t['opponent_too_large']} sheets)"
              if t["opponent_too_large"] else "")
      print(f"{comparison}: {t['model']} preferred in {t['votes']} of "
            f"{t['of_votes']} votes, majority on {t['photos']} of "
            f"{t['of_photos']} photos{note}")
    return 0
  except TfgcError as e:
    print(f"tfgc.abtest: {e}", file=sys.stderr)
    return 1


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
