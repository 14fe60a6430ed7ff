"""SavedModel export: the model's transforms and range coder, nothing else.

Layout of an export directory:

    <export_dir>/saved_model.pb, variables/   compress, decompress, analyze,
                                              synthesize (needs TFC to load)
    <export_dir>/serving/1/                   analyze, synthesize only (core
                                              TF ops: stock TF Serving)
    <export_dir>/model.json                   model id, config, parameters

Signatures (names of outputs are the names of the next step's inputs):

    compress(image: uint8 [H, W, 3])
        -> latent_string: string [], side_string: string [],
           image_shape: int32 [2], seed: int32 []  (0, the default noise seed)
    decompress(latent_string, side_string, image_shape, seed)
        -> image: uint8 [H, W, 3]
    analyze(image: uint8 [H, W, 3])
        -> symbols: int32 [ceil(H/16), ceil(W/16), C] (the quantizer's
           centres), image_shape: int32 [2], seed: int32 []
    synthesize(symbols, image_shape, seed) -> image: uint8 [H, W, 3]
    entropy_encode(symbols) -> latent_string, side_string
    entropy_decode(latent_string, side_string, latent_shape: int32 [2])
        -> symbols

`compress` is `analyze` then `entropy_encode`, `decompress` is
`entropy_decode` then `synthesize`. The entropy signatures work on the
latent grid (1/256 of the pixels) with every prior, so `tfgc.codec` runs E
and G in tiles and codes the whole grid between them, one path for all
models.

SC models' `compress` and `analyze` also take labels: uint8 [H, W] (class
ids) and synthesis_mask: uint8 [H, W] (nonzero = synthesise), and also
return latent_mask: uint8 [h, w] (1 = the position's latents are coded;
symbols are 0 elsewhere) and labels; `decompress` and `synthesize` also take
latent_mask and labels, and the entropy signatures latent_mask. With
`Config.colour_context` (`tfgc.colour_context`), `compress` and `analyze`
also return colour_context: uint8 [bh, bw, 3], the painted blocks' colour
levels, which `decompress` takes; `synthesize` takes them per latent cell,
colour_context: uint8 [h, w, 3] (`colour_context.per_cell`), so that
tiles cut them as they cut the symbols.

The discriminator is never exported.
"""

import argparse
import hashlib
import inspect
import json
import os
import shutil
import sys

import numpy as np
import tensorflow as tf
import tensorflow_compression  # noqa: F401 (ops of the main SavedModel)

from tfgc import entropy, pinned
from tfgc.config import Config, latent_shape
from tfgc.errors import TfgcError
from tfgc.networks import (colour_context_levels, colour_context_per_cell,
                           painted_colours, to_float, to_uint8)
from tfgc.zoo import resolve

SERVING_SUBDIR = os.path.join("serving", "1")
MODEL_JSON = "model.json"

SPECS = {
    "image": tf.TensorSpec([None, None, 3], tf.uint8, name="image"),
    "labels": tf.TensorSpec([None, None], tf.uint8, name="labels"),
    "synthesis_mask": tf.TensorSpec([None, None], tf.uint8,
                                    name="synthesis_mask"),
    "latent_mask": tf.TensorSpec([None, None], tf.uint8, name="latent_mask"),
    "symbols": tf.TensorSpec([None, None, None], tf.int32, name="symbols"),
    "image_shape": tf.TensorSpec([2], tf.int32, name="image_shape"),
    "latent_shape": tf.TensorSpec([2], tf.int32, name="latent_shape"),
    "seed": tf.TensorSpec([], tf.int32, name="seed"),
    "latent_string": tf.TensorSpec([], tf.string, name="latent_string"),
    "side_string": tf.TensorSpec([], tf.string, name="side_string"),
    "realism": tf.TensorSpec([], tf.float32, name="realism"),
    "colour_context": tf.TensorSpec([None, None, 3], tf.uint8,
                                    name="colour_context"),
}
# Inputs of each signature beyond the GC ones, in SC.
SC_INPUTS = {"analyze": ("labels", "synthesis_mask"),
             "synthesize": ("latent_mask", "labels"),
             "compress": ("labels", "synthesis_mask"),
             "decompress": ("latent_mask", "labels"),
             "entropy_encode": ("latent_mask",),
             "entropy_decode": ("latent_mask",)}
# Inputs of the signatures that run G, with the realism dial.
DIAL_INPUTS = {"synthesize": ("realism",), "decompress": ("realism",)}
# Inputs of the signatures that run G, with the colour context.
CONTEXT_INPUTS = {"synthesize": ("colour_context",),
                  "decompress": ("colour_context",)}
GC_INPUTS = {"analyze": ("image",),
             "synthesize": ("symbols", "image_shape", "seed"),
             "compress": ("image",),
             "decompress": ("latent_string", "side_string", "image_shape",
                            "seed"),
             "entropy_encode": ("symbols",),
             "entropy_decode": ("latent_string", "side_string",
                                "latent_shape")}


def _keep(latent_mask):
  """latent_mask uint8 [h, w] -> float32 [1, h, w, 1] in {0, 1}, or None."""
  return (None if latent_mask is None
          else tf.cast(latent_mask > 0, tf.float32)[None, ..., None])


def _symbols_to_latents(symbols, latent_mask, latent_channels):
  """symbols int32 [h, w, C] -> ŵ float32 [1, h, w, C], zero where
  `latent_mask` is 0, and `_keep(latent_mask)`."""
  w_hat = tf.ensure_shape(tf.cast(symbols, tf.float32),
                          [None, None, latent_channels])[None]
  keep = _keep(latent_mask)
  if keep is not None:
    w_hat *= keep
  return w_hat, keep


class TransformsModule(tf.Module):
  """E, q, G (and F in SC) with integer symbols in and out: core
  TensorFlow ops only. Its signatures are `SIGNATURES` with the inputs of
  `GC_INPUTS` (+ `SC_INPUTS` in SC)."""

  SIGNATURES = ("analyze", "synthesize")

  def __init__(self, model, model_id):
    super().__init__(name="tfgc_transforms")
    config = model.config
    self.selective = config.selective
    self.realism_dial = config.realism_dial
    self.colour_context = config.colour_context
    # The networks are attributes so that the SavedModel holds them (and
    # not D or the perceptual network); model ids hash their variables in
    # the order of these names. The graphs are the model's own `analysis`
    # and `synthesis`, kept as bound methods, which tf.Module does not
    # track.
    self.encoder = model.encoder
    self.quantizer = model.quantizer
    self.generator = model.generator
    self.realism_modulation = model.realism_modulation
    self.semantic_encoder = model.semantic_encoder
    self._analysis = model.analysis
    self._synthesis = model.synthesis
    self.latent_channels = config.latent_channels
    self.model_id = tf.Variable(model_id, trainable=False, name="model_id")
    self.config_json = tf.Variable(config.to_json(), trainable=False,
                                   name="config_json")
    for name in TransformsModule.SIGNATURES:
      setattr(self, name, _signature_function(
          getattr(self, f"_{name}"), name, config))

  def _latents(self, image, synthesis_mask=None):
    """uint8 [H, W, 3] -> ŵ float32 [1, h, w, C], the kept positions
    float32 [1, h, w, 1] (None in GC) and (H, W)."""
    mask = None if synthesis_mask is None else synthesis_mask[None]
    w_hat, keep = self._analysis(to_float(image[None]), mask)
    return w_hat, keep, tf.shape(image)[:2]

  def _image(self, w_hat, image_shape, seed, labels=None, realism=None,
             colours=None):
    """ŵ [1, h, w, C] (+ labels uint8 [H, W]) -> uint8 [H, W, 3], noise
    drawn from `seed`, at the realism weight `realism` (float32 [], with
    the dial), with G's colour context `colours` (float32 [1, h, w, 4])
    where the model takes one."""
    if labels is not None:
      labels = tf.ensure_shape(labels, [None, None])[None]
    if realism is not None:
      realism = tf.clip_by_value(realism, 0.0, 1.0)[None]
    x_hat = self._synthesis(w_hat, image_shape, labels, seed, realism,
                            colour_context=colours)
    return to_uint8(x_hat[0])

  @staticmethod
  def _selective_outputs(keep, labels):
    """The SC outputs that the next step takes as inputs."""
    if keep is None:
      return {}
    return dict(latent_mask=tf.cast(keep[0, :, :, 0], tf.uint8),
                labels=labels)

  def _analyze(self, image, labels=None, synthesis_mask=None):
    w_hat, keep, image_shape = self._latents(image, synthesis_mask)
    outputs = dict(symbols=tf.cast(w_hat[0], tf.int32),
                   image_shape=image_shape, seed=tf.constant(0),
                   **self._selective_outputs(keep, labels))
    if self.colour_context:
      outputs["colour_context"] = tf.cast(colour_context_levels(
          image[None], keep, self.colour_context)[0], tf.uint8)
    return outputs

  def _synthesize(self, symbols, image_shape, seed, latent_mask=None,
                  labels=None, realism=None, colour_context=None):
    w_hat, keep = _symbols_to_latents(symbols, latent_mask,
                                      self.latent_channels)
    colours = None
    if self.colour_context:
      colours = painted_colours(tf.ensure_shape(
          colour_context, [None, None, 3])[None], keep)
    return dict(image=self._image(w_hat, image_shape, seed, labels, realism,
                                  colours))

  def signatures(self):
    return {name: getattr(self, name).get_concrete_function()
            for name in self.SIGNATURES}


def signature_inputs(name, config):
  """The input names of signature `name` for a model of `config`."""
  return (GC_INPUTS[name] + (SC_INPUTS[name] if config.selective else ())
          + (DIAL_INPUTS.get(name, ()) if config.realism_dial else ())
          + (CONTEXT_INPUTS.get(name, ()) if config.colour_context else ()))


def _signature_function(function, name, config):
  """`function` (taking its inputs by name) as a tf.function with the
  inputs of signature `name`."""
  names = signature_inputs(name, config)
  def by_name(*args, **kwargs):
    return function(**dict(zip(names, args)), **kwargs)
  by_name.__signature__ = inspect.Signature(
      [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD)
       for n in names])
  return tf.function(by_name, input_signature=[SPECS[n] for n in names])


def entropy_functions(coder, config):
  """The `entropy_encode` and `entropy_decode` signatures' tf.functions
  over an entropy model's coder (`tfgc.entropy`): symbols int32 [h, w, C]
  <-> latent and side strings, only the kept positions in SC."""
  latent_channels = config.latent_channels
  def encode(symbols, latent_mask=None):
    latent_string, side_string = coder.compress(
        *_symbols_to_latents(symbols, latent_mask, latent_channels))
    return dict(latent_string=latent_string, side_string=side_string)

  def decode(latent_string, side_string, latent_shape, latent_mask=None):
    w_hat = coder.decompress(latent_string, side_string, latent_shape,
                             _keep(latent_mask))
    return dict(symbols=tf.cast(w_hat[0], tf.int32))

  return dict(entropy_encode=_signature_function(encode, "entropy_encode",
                                                 config),
              entropy_decode=_signature_function(decode, "entropy_decode",
                                                 config))


def pipeline_functions(stages, config):
  """`compress` (analyze, then entropy_encode) and `decompress`
  (entropy_decode, then synthesize) as tf.functions, from `stages`: those
  four signatures' functions by name, called with named inputs."""
  selective = config.selective

  def compress(image, labels=None, synthesis_mask=None):
    inputs = dict(image=image)
    if selective:
      inputs.update(labels=labels, synthesis_mask=synthesis_mask)
    analysed = dict(stages["analyze"](**inputs))
    symbols = analysed.pop("symbols")
    masks = dict(latent_mask=analysed["latent_mask"]) if selective else {}
    return dict(analysed,
                **stages["entropy_encode"](symbols=symbols, **masks))

  def decompress(latent_string, side_string, image_shape, seed,
                 latent_mask=None, labels=None, realism=None,
                 colour_context=None):
    masks = dict(latent_mask=latent_mask) if selective else {}
    symbols = stages["entropy_decode"](
        latent_string=latent_string, side_string=side_string,
        latent_shape=latent_shape(image_shape), **masks)["symbols"]
    if selective:
      masks.update(labels=labels)
    if config.realism_dial:
      masks.update(realism=realism)
    if config.colour_context:
      masks.update(colour_context=colour_context_per_cell(
          colour_context[None], config.colour_context,
          latent_shape(image_shape))[0])
    return dict(stages["synthesize"](symbols=symbols, image_shape=image_shape,
                                     seed=seed, **masks))

  return dict(compress=_signature_function(compress, "compress", config),
              decompress=_signature_function(decompress, "decompress",
                                             config))


class CodecModule(TransformsModule):
  """The transforms plus a range-coding snapshot of the entropy model.

  In SC only the kept latent positions are range coded; `latent_mask`
  (uint8 [h, w], 1 = coded) travels beside the strings.
  """

  SIGNATURES = TransformsModule.SIGNATURES + (
      "entropy_encode", "entropy_decode", "compress", "decompress")

  def __init__(self, model, model_id):
    self.coder = model.entropy_model.make_coder()
    super().__init__(model, model_id)
    _add_coding_functions(self, self.coder, model.config)


def _add_coding_functions(module, coder, config):
  """Sets `module`'s entropy and pipeline functions (`module.analyze` and
  `module.synthesize` must exist)."""
  functions = entropy_functions(coder, config)
  functions.update(pipeline_functions(
      dict(functions, analyze=module.analyze, synthesize=module.synthesize),
      config))
  for name, function in functions.items():
    setattr(module, name, function)


def model_id(config, variables):
  """16 hex digits of SHA-256 over the config and the weights' values.

  `variables` in a deterministic order (a module's or model's own order);
  names are left out: Keras numbers layer names per process.
  """
  digest = hashlib.sha256(config.identity_json().encode())
  for variable in variables:
    value = np.ascontiguousarray(variable.numpy())
    digest.update(str(value.shape).encode())
    digest.update(value.tobytes())
  return digest.hexdigest()[:16]


def parameter_counts(model):
  """Parameter counts of the exported parts and of D (training only)."""
  def count(layer):
    return int(sum(np.prod(v.shape) for v in layer.weights))
  counts = dict(encoder=count(model.encoder),
                generator=count(model.generator),
                entropy_model=count(model.entropy_model),
                discriminator=count(model.discriminator))
  if model.realism_modulation is not None:
    counts["realism_modulation"] = count(model.realism_modulation)
  return counts


DEFAULT_REALISM = 1.0


def export(model, export_dir, default_realism=DEFAULT_REALISM):
  """Writes the SavedModels and model.json to `export_dir`; returns the id.

  The weights exported are the model's current ones, or their average if
  its config keeps one (the coder is a fresh snapshot), so export after
  training. A model trained in mixed precision is exported as its float32
  copy. With the realism dial, model.json records `default_realism`, the
  r that decoding uses unless told (the signatures take r as an input);
  it is not part of the model id.
  """
  if model.config.realism_dial and not 0.0 <= default_realism <= 1.0:
    raise ValueError(f"default_realism must be in [0, 1], got "
                     f"{default_realism}")
  model = model.inference_model()
  codec = CodecModule(model, "")
  weights = [v for v in codec.variables if v.dtype != tf.string]
  identifier = model_id(model.config, weights)
  codec.model_id.assign(identifier)
  save(codec, export_dir, codec.signatures())
  transforms = TransformsModule(model, identifier)
  save(transforms, os.path.join(export_dir, SERVING_SUBDIR),
       transforms.signatures())
  description = dict(model_id=identifier,
                     config=json.loads(model.config.to_json()),
                     parameters=parameter_counts(model))
  if model.config.realism_dial:
    description["default_realism"] = float(default_realism)
  with open(os.path.join(export_dir, MODEL_JSON), "w") as f:
    json.dump(description, f, indent=2)
  return identifier


def write_serving_copy(export_dir, out_dir):
  """Writes an export's `serving/1/` SavedModel (analyze and synthesize,
  core ops only) from its main SavedModel: bundled models ship without it.

  The graphs and weights are the main SavedModel's, so the pixels are the
  same as those of the copy `export` writes.
  """
  loaded = tf.saved_model.load(export_dir)
  module = tf.Module(name="tfgc_transforms")
  signatures = {name: loaded.signatures[name]
                for name in TransformsModule.SIGNATURES}
  module.signature_functions = signatures
  module.weights = [v for function in signatures.values()
                    for v in function.variables]
  module.model_id = tf.Variable(loaded.model_id.numpy(), trainable=False,
                                name="model_id")
  module.config_json = tf.Variable(loaded.config_json.numpy(),
                                   trainable=False, name="config_json")
  save(module, out_dir, signatures)


def upgrade(export_dir, out_dir):
  """Writes an export made before the entropy signatures existed (tfgc
  before 2026-12) to the new folder `out_dir` with them: the same weights,
  coding tables, model id, files and serving copy, so its bitstreams
  decode as before. Its `compress` and `decompress` become the
  compositions with the new signatures, as in a new export.

  Only factorized priors: an older hyperprior export's side transforms
  cannot be called outside its own `compress`; export it again from its
  run instead. TfgcError if there is nothing to do or it cannot be done.
  """
  if os.path.exists(out_dir) and os.listdir(out_dir):
    raise TfgcError(f"{out_dir} is not empty: give a new folder")
  loaded = tf.saved_model.load(export_dir)
  if "entropy_encode" in loaded.signatures:
    raise TfgcError(f"{export_dir} already has the entropy signatures")
  with open(os.path.join(export_dir, MODEL_JSON)) as f:
    config = Config.from_json(json.dumps(json.load(f)["config"]))
  if config.entropy_model != "factorized":
    raise TfgcError(f"{export_dir}: an older {config.entropy_model} export "
                    "cannot be upgraded; export it again from its run "
                    "(its tfgc train command, which exports at its last "
                    "step)")
  module = tf.Module(name="tfgc_codec")
  for name in ("encoder", "quantizer", "generator", "semantic_encoder"):
    if hasattr(loaded, name):
      setattr(module, name, getattr(loaded, name))
  module.analyze = loaded.signatures["analyze"]
  module.synthesize = loaded.signatures["synthesize"]
  # The tables the old export coded with, as TFC saved them.
  module.coder = entropy.FactorizedCoder(
      *pinned.coding_tables(loaded.coder.latent_model),
      config.latent_channels)
  module.model_id = tf.Variable(loaded.model_id.numpy(), trainable=False,
                                name="model_id")
  module.config_json = tf.Variable(loaded.config_json.numpy(),
                                   trainable=False, name="config_json")
  _add_coding_functions(module, module.coder, config)
  signatures = {name: getattr(module, name) for name in CodecModule.SIGNATURES}
  signatures = {name: function if name in TransformsModule.SIGNATURES
                else function.get_concrete_function()
                for name, function in signatures.items()}
  save(module, out_dir, signatures)
  # tfgc's files and the serving copy: not the SavedModel's own, which
  # `save` has just written.
  for name in os.listdir(export_dir):
    source, target = (os.path.join(d, name) for d in (export_dir, out_dir))
    if os.path.exists(target):
      continue
    if os.path.isdir(source):
      shutil.copytree(source, target)
    else:
      shutil.copy2(source, target)


def save(module, path, signatures):
  """tf.saved_model.save without the Keras layers' own call traces: the
  signatures are the SavedModel's interface, and tracing every layer's
  `call` as well more than doubled the time of an export. The layers keep
  their variables and checkpoint keys (`--init_from` an export reads
  them)."""
  with pinned.keras_option_scope(save_traces=False):
    tf.saved_model.save(module, path, signatures=signatures)


def main(argv):
  """python -m tfgc.export [--upgrade] MODEL OUT_DIR."""
  parser = argparse.ArgumentParser(
      prog="python -m tfgc.export",
      description="Write the serving/1/ SavedModel (core ops, for stock "
                  "TensorFlow Serving) of a bundled model or an export; "
                  "with --upgrade, rewrite an export made before the "
                  "entropy signatures existed with them.")
  parser.add_argument("model", help="a bundled model's name or an export "
                                    "directory")
  parser.add_argument("out_dir", help="where to write it, e.g. "
                                      "models/tfgc/1 for TF Serving")
  parser.add_argument("--upgrade", action="store_true",
                      help="write MODEL with the entropy signatures that "
                           "tfgc.codec needs (same weights, same id)")
  args = parser.parse_args(argv)
  try:
    path = resolve(args.model)
    if args.upgrade:
      upgrade(path, args.out_dir)
      print(f"{path} with entropy signatures -> {args.out_dir}")
      return 0
  except TfgcError as e:
    print(f"tfgc.export: {e}", file=sys.stderr)
    return 1
  write_serving_copy(path, args.out_dir)
  print(f"analyze/synthesize SavedModel of {path} -> {args.out_dir}")
  return 0


if __name__ == "__main__":
  sys.exit(main(sys.argv[1:]))
