"""The Python API: load a model, compress images to bytes and back.

    from tfgc import codec
    model = codec.load("path/to/export")        # or a bundled model's name
    data = model.compress("photo.jpg")          # bytes of a .tfgc file
    image = model.decompress(data, seed=0)      # uint8 [H, W, 3]
    codec.info(data)                            # dict, no model needed

    # Selective compression (SC models): synthesise classes 7 and 8
    data = model.compress("photo.jpg", labels="photo_labels.png",
                          synthesize=[7, 8])    # or preserve=bool [H, W]
    selection = model.select_regions(keep=["person"])   # checked once
    data = model.compress("photo.jpg", selection=selection)
    # A photo without a person is refused (it would be painted whole)
    # unless allow_empty=True.

Bitstreams are validated before any tensor is built, and decode only with
the model whose id they carry. Every model codes the same way: SC regions
are selected (`tfgc.regions`), E runs on the image (in tiles when it is
too large for `memory_budget_mib`), the export's entropy signatures code
the whole latent grid (1/256 of the pixels) and the container is written;
decoding parses it, decodes the grid and runs G on it (in tiles again),
with the whole image's bytes and pixels (`tfgc.tiling`); models that
cannot be tiled refuse images over the budget.
"""

import io
import json
import math
import os
import warnings

import numpy as np

from tfgc import (bitstream, colour_context, labellers, labelmaps, regions,
                  tiling)
from tfgc.config import Config, latent_shape
from tfgc.errors import TfgcError
from tfgc.images import (DEFAULT_MAX_PIXELS, image_size, name_of,
                         read_image)
from tfgc.zoo import ModelError, find, resolve

# Activation memory of E or G per call (tiles above it): with TensorFlow
# and the model (about 570 MiB), `small` codes any image in about 1.2 GiB
# of RSS beside the image itself (`make bench`).
DEFAULT_MEMORY_BUDGET_MIB = 640
# Decoding synthesises every declared pixel (G: about 1.8 CPU-seconds per
# megapixel for `small`) however few bytes describe them, so a file may
# declare at most this many pixels per byte of itself. The codec's own
# files carry far fewer: GC 105-210 (0.076 and 0.038 bpp, a uniform image
# included), SC with every pixel synthesised from a photo's label map at
# most about 9,000 (the cheapest measured map, 0.0009 bpp). 20,000 (0.0004
# bpp) leaves them a factor of 2 and holds a file to about 36 ms of
# synthesis per byte: 99 bytes decode at most 2 Mpx (4 s), not 50 Mpx
# (90 s). SC files that synthesise nearly everything from a near-uniform
# map pass it up to about 1 Mpx (66 bytes for 1024x1024) and need it
# raised above (75 bytes for 2048x2048: 56,000 pixels per byte).
DEFAULT_MAX_PIXELS_PER_BYTE = 20_000
_GC_REFUSES_REGIONS = ("this is a GC model: label maps, labellers, "
                       "--synthesize, --keep and --preserve need an SC "
                       "model, e.g. --model=sc-objects-context-c8")


def info(data, max_pixels=None, max_pixels_per_byte=None):
  """The header of a .tfgc bitstream as a dict (validates everything,
  within the limits of `Codec`; None: no limit)."""
  parsed = bitstream.parse(data, max_pixels, max_pixels_per_byte)
  size = len(data)
  header = dict(format_version=bitstream.VERSION, model_id=parsed.model_id,
                mode=parsed.mode, width=parsed.width, height=parsed.height,
                payload_bytes=parsed.payload_bytes, file_bytes=size,
                bits_per_pixel=8 * size / (parsed.width * parsed.height))
  if parsed.selective:
    header.update(zip(("latent_bytes", "side_bytes", "label_map_bytes",
                       "latent_mask_bytes", "colour_context_bytes"),
                      (len(s) for s in parsed.sections)))
  return header


def _check_size(width, height, max_pixels, name):
  """TfgcError, naming `name`, unless an image of `width` x `height` is
  within `max_pixels` (None: no limit) and the format's sides."""
  if max_pixels is not None and width * height > max_pixels:
    raise TfgcError(f"{name} is {width}x{height}, over the limit of "
                    f"{max_pixels} pixels; raise it with --max_pixels")
  if max(width, height) > bitstream.MAX_SIDE:
    raise TfgcError(f"{name} is {width}x{height}: the .tfgc format holds "
                    f"sides of up to {bitstream.MAX_SIDE} pixels; crop it")


def check_image_file(source, max_pixels=DEFAULT_MAX_PIXELS):
  """TfgcError unless the image file `source` (a path or file object) is
  readable and of a size `Codec.compress` takes, as far as its header
  tells: the check to run before loading a model (seconds) for it."""
  _check_size(*image_size(source, max_pixels), max_pixels, name_of(source))


def _read_description(path):
  """An export's model.json as a dict, and its config."""
  with open(os.path.join(path, "model.json")) as f:
    description = json.load(f)
  return description, Config.from_json(json.dumps(description["config"]))


def _named(model_id):
  """A model id, with the name of the bundled model of that id if any:
  "gc-small-c4 (cc50276f49b028b1)"."""
  name = find(model_id)
  return f"{name} ({model_id})" if name else model_id


def wrong_model(file_id, model_id):
  """The ModelError of a file written by model `file_id` given to model
  `model_id`, naming the bundled model that wrote it, if one did."""
  writer = find(file_id)
  fix = (f"decode it with {writer} (--model={writer})" if writer
         else "decode it with that model's export directory (--model=DIR)")
  return ModelError(f"the file was written by model {_named(file_id)}, not "
                    f"by {_named(model_id)}; {fix}")


def model_info(model, model_id):
  """What a model (name or export directory) tells of the files it wrote,
  from its model.json, without loading it: its name, and for SC models its
  labeller ("" = the user's label maps) and class names (None unless the
  labeller names them). ModelError unless it is the model `model_id`."""
  description, config = _read_description(resolve(model))
  if description["model_id"] != model_id:
    raise wrong_model(model_id, description["model_id"])
  found = dict(model=model)
  if config.realism_dial:
    found["default_realism"] = _default_realism(description, config)
  if config.selective:
    found.update(labeller=config.labeller, classes=(
        list(labellers.class_names(config.labeller, config.num_classes))
        if config.labeller else None))
  return found


def _default_realism(description, config):
  """The r a model with the realism dial decodes with unless told (its
  model.json's; 1, the export's default, if it names none); None for a
  model without the dial."""
  if not config.realism_dial:
    return None
  return description.get("default_realism", 1.0)


class Codec:
  """A loaded exported model. Create with `load`.

  max_pixels: larger images and bitstreams are refused (None: no limit).
  memory_budget_mib: activation memory of one run of E or G; larger
    images are coded in tiles, with the whole image's pixels and bytes
    (models that cannot be tiled, `tiling.untileable_reason`, refuse them).
  max_pixels_per_byte: bitstreams declaring more pixels per byte of the
    file are refused before decoding (None: no limit), a bound on the work
    an untrusted file can cause (`DEFAULT_MAX_PIXELS_PER_BYTE`).
  """

  def __init__(self, path, max_pixels=DEFAULT_MAX_PIXELS,
               memory_budget_mib=DEFAULT_MEMORY_BUDGET_MIB,
               max_pixels_per_byte=DEFAULT_MAX_PIXELS_PER_BYTE):
    import tensorflow as tf
    import tensorflow_compression  # noqa: F401  (range coding ops)
    from tfgc import export  # Imports TensorFlow: only once a model loads.
    self._tf = tf
    self._dtypes = {name: spec.dtype for name, spec in export.SPECS.items()}
    self.path = path
    self.max_pixels = max_pixels
    self.max_pixels_per_byte = max_pixels_per_byte
    self.description, config = _read_description(path)
    self.model_id = self.description["model_id"]
    self.mode = config.mode
    self.selective = config.selective
    self.num_classes = config.num_classes
    # The labeller of the maps the model was trained on ("" = the user's).
    self.labeller = config.labeller
    self.class_names = regions.model_class_names(config.num_classes,
                                                 config.labeller)
    self._labellers = {}
    self.latent_channels = config.latent_channels
    # Cells per side of the colour-context blocks (0: none).
    self.colour_context = config.colour_context
    # 0: G takes no noise, so every seed decodes the same pixels.
    self.noise_channels = config.noise_channels
    # The r decoding uses unless told, with the realism dial; else None.
    self.default_realism = _default_realism(self.description, config)
    self.memory_budget_mib = memory_budget_mib
    # Only a hyperprior writes a side string.
    self._side_information = config.entropy_model != "factorized"
    self._model = tf.saved_model.load(path)
    signatures = self._model.signatures
    if "entropy_encode" not in signatures and self._side_information:
      raise ModelError(
          f"{path} was exported before tfgc's entropy signatures: export "
          "it again from its run (its tfgc train command, "
          "which exports at its last step)")
    if "entropy_encode" not in signatures:
      raise ModelError(
          f"{path} was exported before tfgc's entropy signatures: upgrade "
          f"it once with python -m tfgc.export --upgrade {path} NEW_DIR")
    self._tiler = tiling.Tiler(
        config, memory_budget_mib,
        analyze=self._numpy_function(signatures["analyze"]),
        synthesize=self._numpy_function(signatures["synthesize"]))
    self._entropy_encode = self._numpy_function(signatures["entropy_encode"])
    self._entropy_decode = self._numpy_function(signatures["entropy_decode"])

  def _numpy_function(self, signature):
    """A signature as a function of numpy values by name (its inputs) ->
    numpy values by name (its outputs)."""
    def run(inputs):
      outputs = signature(**{
          name: self._tf.constant(value, self._dtypes[name])
          for name, value in inputs.items()})
      return {name: value.numpy() for name, value in outputs.items()}
    return run

  def compress(self, image, labels=None, synthesize=None, preserve=None,
               class_names=None, labeller=None, keep=None, selection=None,
               allow_empty=False, progress=None):
    """An image -> .tfgc bytes.

    image: uint8 [H, W, 3] array, an image file's path, or its bytes.
    SC models only:
      labels: class ids, uint8 [H, W] or a label-map file. Without it the
        image is labelled by `labeller`, else by the model's own
        (`self.labeller`); models of the stand-in labeller refuse it.
      labeller: a labeller's name (`tfgc.labellers.NAMES`): the model's
        own, or any whose classes a model without one takes.
      synthesize: classes whose pixels are synthesised: ids, or names
        listed in `class_names` (name of class 0 first; default the
        labeller's class names), or
      keep: the classes to keep faithful (ids or names as for
        `synthesize`): every other class is synthesised, or
      preserve: bool [H, W] (True = keep faithful) or a mask image file
        (nonzero = preserve). None of them: everything is preserved.
      selection: instead of the options above, a `RegionSelection` made
        once by `select_regions` (for many images).
      allow_empty: write the file even if it keeps no pixel of the image
        (all of it painted from the label map) or lacks a class of `keep`;
        otherwise that is a TfgcError naming the classes the label map
        holds (`RegionSelection.check_kept`).
    progress: None, or called with (tiles done, tiles in all) after each
      tile E runs on (one for an image within the memory budget).
    """
    image = self._checked_image(image)
    # Before labelling: refuses what a model that cannot be tiled cannot
    # code whole.
    self._tiler.check_size(image.shape[:2])
    options = dict(labels=labels, synthesize=synthesize, preserve=preserve,
                   class_names=class_names, labeller=labeller, keep=keep)
    selection = self._checked_selection(selection, options)
    pixels = dict(image=image)
    if selection is not None:
      found = selection.select(image)
      if not allow_empty:
        selection.check_kept(found)
      pixels.update(labels=found.labels,
                    synthesis_mask=found.synthesis_mask.astype(np.uint8))
    grid = self._tiler.analyse(pixels, progress)
    strings = self._entropy_encode(grid)
    sections = (strings["latent_string"], strings["side_string"])
    if selection is not None:
      sections += (labelmaps.encode_label_map(pixels["labels"]),
                   labelmaps.encode_mask(grid["latent_mask"]))
    if self.colour_context:
      keep, cells = grid["latent_mask"], self.colour_context
      sections += (colour_context.encode(
          colour_context.block_levels(image, keep, cells), keep, cells),)
    height, width = image.shape[:2]
    data = bitstream.serialize(bitstream.Bitstream(
        model_id=self.model_id, mode=self.mode, width=width, height=height,
        sections=sections))
    per_byte = math.ceil(height * width / len(data))
    if per_byte > DEFAULT_MAX_PIXELS_PER_BYTE:
      warnings.warn(f"the file holds {per_byte:,} pixels per byte: decoding "
                    f"it needs --max_pixels_per_byte={per_byte} (default "
                    f"{DEFAULT_MAX_PIXELS_PER_BYTE:,})")
    return data

  def _checked_image(self, image):
    """`compress`'s image (array or file) -> uint8 [H, W, 3] within the
    limits of this codec and the format."""
    name = "the image"
    if isinstance(image, (bytes, bytearray, memoryview)):
      image = io.BytesIO(image)  # A file's bytes: open(path, "rb").read().
      image.name = name
    elif isinstance(image, (str, os.PathLike)):
      image = name = os.fspath(image)
    if isinstance(image, (str, io.BytesIO)):
      check_image_file(image, self.max_pixels)  # Before decoding it.
      image = read_image(image, self.max_pixels)
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
      raise TfgcError(f"expected a uint8 [H, W, 3] image, got "
                      f"{image.dtype} {list(image.shape)}")
    height, width = image.shape[:2]
    _check_size(width, height, self.max_pixels, name)
    return image

  def select_regions(self, labels=None, synthesize=None, preserve=None,
                     class_names=None, labeller=None, keep=None):
    """`compress`'s SC options (see there), checked once and with their
    labeller loaded: a `regions.RegionSelection` to compress any number
    of images with, or None for a GC model given none of them."""
    if not self.selective:
      if any(a is not None for a in (labels, synthesize, preserve,
                                     labeller, keep)):
        raise TfgcError(_GC_REFUSES_REGIONS)
      return None
    return self._selection(labels=labels, synthesize=synthesize,
                           preserve=preserve, class_names=class_names,
                           labeller=labeller, keep=keep)

  def _selection(self, **options):
    """`regions.RegionSelection.build` for this model's classes."""
    return regions.RegionSelection.build(
        self.num_classes, self.labeller, **options, loader=self._labeller)

  def _checked_selection(self, selection, options):
    """`compress`'s region selection: `selection`, made for this model's
    classes, or the one of its keyword `options` (by name)."""
    if selection is None:
      return self.select_regions(**options)
    if any(value is not None for value in options.values()):
      raise TfgcError("give a region selection or its options (labels, "
                      "synthesize, ...), not both")
    if not self.selective:
      raise TfgcError(_GC_REFUSES_REGIONS)
    if ((selection.num_classes, selection.model_labeller)
        != (self.num_classes, self.labeller)):
      raise TfgcError("this region selection was made for a model of "
                      "other classes: make it with this model's "
                      "select_regions")
    return selection

  def _labeller(self, name):
    """The labeller `name` (`regions.load_labeller`), loaded once."""
    if name not in self._labellers:
      self._labellers[name] = regions.load_labeller(name, self.num_classes)
    return self._labellers[name]

  def label_map(self, image, labels=None, labeller=None):
    """The SC label map for `image`: uint8 [H, W] (see `compress`)."""
    return self._selection(labels=labels, labeller=labeller).label_map(image)

  def synthesis_mask(self, labels, synthesize=None, preserve=None,
                     class_names=None, keep=None):
    """bool [H, W], True = synthesise (see `compress`; class names default
    to the model's labeller's)."""
    return regions.SynthesisChoice.build(
        self.num_classes, class_names or self.class_names, synthesize, keep,
        preserve).mask(labels)

  def _parse(self, data):
    """.tfgc bytes -> `bitstream.Bitstream`, refused unless this model
    wrote it."""
    parsed = bitstream.parse(data, self.max_pixels,
                             self.max_pixels_per_byte)
    if parsed.model_id != self.model_id:
      raise wrong_model(parsed.model_id, self.model_id)
    if parsed.mode != self.mode:
      raise bitstream.BitstreamError(
          f"corrupt bitstream: mode {parsed.mode.upper()}, but model "
          f"{self.model_id} codes {self.mode.upper()}")
    sections = 2 + 2 * self.selective + bool(self.colour_context)
    if len(parsed.sections) != sections:
      raise bitstream.BitstreamError(
          f"corrupt bitstream: {len(parsed.sections)} sections, but model "
          f"{self.model_id} writes {sections}")
    return parsed

  def _carried_labels(self, parsed):
    return labelmaps.decode_label_map(
        parsed.sections[2], (parsed.height, parsed.width), self.num_classes)

  def carried_label_map(self, data):
    """The label map an SC file of this model carries: uint8 [H, W]."""
    if not self.selective:
      raise TfgcError("this is a GC model: its files carry no label map")
    return self._carried_labels(self._parse(data))

  def decompress(self, data, seed=0, progress=None, realism=None):
    """.tfgc bytes -> uint8 [H, W, 3]; `seed` picks the synthesised noise
    (of models with `noise_channels`; the others ignore it); `progress`,
    if given, is called with (tiles done, tiles in all) after each tile G
    runs on. `realism`, r in [0, 1], only for a model with the realism
    dial (`default_realism` if None): 0 decodes the MSE-trained image, 1
    the fully generative one, from the same file."""
    realism = self._realism(realism)
    parsed = self._parse(data)
    if parsed.sections[1] and not self._side_information:
      raise TfgcError("corrupt bitstream: a side string, which this model's "
                      "factorized prior never writes")
    image_shape = (parsed.height, parsed.width)
    # Before decoding: refuses what a model that cannot be tiled cannot
    # code whole.
    self._tiler.check_size(image_shape)
    pixels = (dict(labels=self._carried_labels(parsed)) if self.selective
              else {})
    grid = self._decoded_grid(parsed)
    return self._tiler.synthesise(image_shape, seed, grid, pixels, progress,
                                  realism)

  def _realism(self, realism):
    """The r to decode with: `realism` checked, or the model's default;
    None for a model without the dial (TfgcError if one was asked for)."""
    if self.default_realism is None:
      if realism is not None:
        raise TfgcError(f"{os.path.basename(os.path.normpath(self.path))} "
                        f"(model {self.model_id}) has no realism dial: "
                        "leave the realism unset (no --realism)")
      return None
    if realism is None:
      return self.default_realism
    if not 0.0 <= realism <= 1.0:
      raise TfgcError(f"the realism must be in [0, 1], got {realism:g}")
    return float(realism)

  def _decoded_grid(self, parsed):
    """The latent grid a parsed bitstream codes, as `synthesize` takes it:
    symbols int32 [h, w, C] (and latent_mask uint8 [h, w] in SC, and
    colour_context uint8 [h, w, 3] with it) by name."""
    shape = latent_shape((parsed.height, parsed.width))
    grid = {}
    if self.selective:
      grid.update(latent_mask=labelmaps.decode_mask(
          parsed.sections[3], shape).astype(np.uint8))
    context = {}
    if self.colour_context:  # Its size checked before the entropy decode.
      keep, cells = grid["latent_mask"], self.colour_context
      levels = colour_context.decode(parsed.sections[4], keep, cells)
      context["colour_context"] = colour_context.per_cell(levels, cells,
                                                          shape)
    latent, side = parsed.sections[:2]
    try:
      decoded = self._entropy_decode(dict(
          grid, latent_string=latent, side_string=side, latent_shape=shape))
    except self._tf.errors.OpError:
      raise TfgcError("corrupt bitstream: the entropy-coded payload does not "
                      "decode") from None
    return dict(grid, **context, symbols=decoded["symbols"])


def load(model=None, max_pixels=DEFAULT_MAX_PIXELS,
         memory_budget_mib=DEFAULT_MEMORY_BUDGET_MIB,
         max_pixels_per_byte=DEFAULT_MAX_PIXELS_PER_BYTE):
  """Loads a model by export directory or bundled name (None: default);
  see `Codec` for the limits."""
  return Codec(resolve(model), max_pixels, memory_budget_mib,
               max_pixels_per_byte)
