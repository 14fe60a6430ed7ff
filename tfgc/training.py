"""Training from Python: one run of `GenerativeCompressionModel` on a folder
of photos, resumable from its checkpoint folder, validated on whole photos
and exported. `tfgc train` (train.py) turns its flags into `RunOptions`
(tfgc/run_options.py) and calls `train`.

    from tfgc import config, training
    model = config.preset("small")
    training.train(model, training.RunOptions(
        data_dir="photos", val_dir="val", checkpoint_dir="run/warmup",
        steps=5000), config.recipe_preset("warmup"))
    training.train(model, training.RunOptions(
        data_dir="photos", val_dir="val", checkpoint_dir="run/ckpt",
        init_from="run/warmup", steps=100000),
        config.recipe_preset("adversarial"))

Each run ends with an export to `export_dir`, CHECKPOINT_DIR/export by
default (run/ckpt/export above; `export_dir=""`: none). Calling `train`
again with the same config resumes from the last checkpoint in
`checkpoint_dir` (step counter, both optimizers, all networks), with the
recipe given then; Ctrl-C ends a run with a checkpoint.
"""

import json
import logging
import os
from typing import NamedTuple, Optional

import numpy as np
import tensorflow as tf

from tfgc import callbacks, data, export
from tfgc.config import Config, Recipe
from tfgc.dists import DISTS
from tfgc.dists import WeightsError as DISTSWeightsError
from tfgc.lpips import LPIPS
from tfgc.lpips import WeightsError as LPIPSWeightsError
from tfgc.model import GenerativeCompressionModel
# RunOptions: `training.RunOptions`, as the examples above use it.
from tfgc.run_options import RunOptions, TrainingError  # noqa: F401
from tfgc.run_options import init_source


class Trained(NamedTuple):
  """What `train` did."""
  step: int  # The step the run ended at (its last checkpoint's).
  weights_digest: str  # `export.model_id` of the weights.
  model_id: Optional[str]  # The exported model's id; None if not exported.
  model: GenerativeCompressionModel  # The trained model, ready to export.


def make_strategy(name, cpu_devices=0):
  """The tf.distribute strategy `name` (see `run_options.STRATEGIES`); with
  `cpu_devices` > 1 the CPU is split into that many logical devices first
  (only possible before TensorFlow has started its devices)."""
  if cpu_devices > 1:
    tf.config.set_logical_device_configuration(
        tf.config.list_physical_devices("CPU")[0],
        [tf.config.LogicalDeviceConfiguration()] * cpu_devices)
  if name == "mirrored":
    devices = (tf.config.list_logical_devices("GPU")
               or tf.config.list_logical_devices("CPU"))
    return tf.distribute.MirroredStrategy([d.name for d in devices])
  if name == "multi_worker":
    return tf.distribute.MultiWorkerMirroredStrategy()
  if name == "tpu":
    resolver = tf.distribute.cluster_resolver.TPUClusterResolver()
    tf.config.experimental_connect_to_cluster(resolver)
    tf.tpu.experimental.initialize_tpu_system(resolver)
    return tf.distribute.TPUStrategy(resolver)
  return tf.distribute.get_strategy()


def worker_subdir(strategy):
  """None on the chief; a private folder name on other multi-host workers.

  Every MultiWorkerMirroredStrategy worker must take part in saving; only
  the chief's checkpoints, logs and export are kept in the shared folders.
  """
  resolver = getattr(strategy, "cluster_resolver", None)
  if resolver is None or not resolver.task_type:
    return None
  has_chief = "chief" in resolver.cluster_spec().as_dict()
  if resolver.task_type == "chief" or (
      not has_chief and resolver.task_type == "worker"
      and resolver.task_id == 0):
    return None
  return f".{resolver.task_type}_{resolver.task_id}"


def check_run_config(checkpoint_dir, config, recipe):
  """Saves the config beside the checkpoints, or checks it matches; saves
  the recipe (the latest start's), which may differ from the last one's
  except in keeping a weight average or not (the checkpoint's layout)."""
  config_path = os.path.join(checkpoint_dir, "config.json")
  recipe_path = os.path.join(checkpoint_dir, "recipe.json")
  if os.path.exists(config_path):
    with open(config_path) as f:
      if Config.from_json(f.read()) != config:
        raise TrainingError(f"{checkpoint_dir} holds a run of another "
                            "model config; use the same flags to resume, "
                            "or a new --checkpoint_dir")
    # Runs saved before the split kept the recipe in config.json.
    with open(recipe_path if os.path.exists(recipe_path)
              else config_path) as f:
      averaged = Recipe.from_json(f.read()).weight_average > 0
    if averaged != (recipe.weight_average > 0):
      kept, needed = (("with", "> 0") if averaged else
                      ("without", "= 0 (or --recipe=base, `tfgc train`'s "
                       "recipe before --recipe)"))
      raise TrainingError(
          f"{checkpoint_dir} holds a run {kept} a weight average; resume "
          f"it with --weight_average {needed}, or use a new "
          "--checkpoint_dir")
  else:
    with open(config_path, "w") as f:
      f.write(config.to_json())
  with open(recipe_path, "w") as f:
    f.write(recipe.to_json())


def labelled_images(folder, data_dir, config, labels_dir):
  """The images of `folder` (an `ImageFolder` of `data_dir`) with their
  label source: (paths, `data.LabelSource` or None without labels,
  messages of images skipped for want of a usable `labels_dir` map)."""
  if labels_dir:
    paths, label_paths, skipped = data.pair_label_maps(
        folder, data_dir, labels_dir, config.num_classes)
    return paths, data.LabelSource(config.num_classes, label_paths), skipped
  if config.labeller == "standin":
    return folder.paths, data.LabelSource(config.num_classes), []
  return folder.paths, None, []


def validation_examples(config, options):
  """`options.val_dir`'s images as the model takes them: uint8 [H, W, 3]
  arrays, or with labels dicts of "image" and "labels" (SC: everything
  preserved, so the figures compare with GC's). Label maps: paired from
  `labels_dir` (val images without one are skipped), or stand-in ones."""
  folder = data.scan_folder(options.val_dir)
  if not config.uses_labels:
    return [data.load_rgb(p, options.max_short_side) for p in folder.paths]
  paths, source, _ = labelled_images(folder, options.val_dir, config,
                                     options.labels_dir)
  examples = []
  for i, path in enumerate(paths):
    image, labels = source.load(i, path, options.max_short_side)
    example = dict(image=image, labels=labels)
    if config.selective:
      example["synthesis_mask"] = np.zeros(labels.shape, bool)
    examples.append(example)
  return examples


def validation_judges(checkpoint, best_dir, precision):
  """FullImageValidation's `lpips`, `dists` and `best` arguments. DISTS
  runs in bfloat16 when the run does (it ranks checkpoints; `evaluate`
  reports float32 figures). Without a metric's weights validation goes on
  without it (and without DISTS keeps no best model)."""
  judges = {}
  try:
    judges["lpips"] = LPIPS("alexnet")
    judges["dists"] = DISTS(dtype=precision)
  except (LPIPSWeightsError, DISTSWeightsError) as e:
    logging.warning("validation without %s and best checkpoint: %s",
                    "LPIPS" if not judges else "DISTS", e)
    return judges
  judges["best"] = callbacks.BestCheckpoint(checkpoint, best_dir)
  return judges


def warm_start(model, source):
  """Loads E and G, from a checkpoint also D and the entropy model, from
  an export also a hyperprior entropy model (`_exported_entropy_model`).

  An SC model started from a GC run or export becomes that GC model
  exactly (see `_widened`): E, G, D and the entropy model are the GC
  model's, G's and D's first convolutions get zero weights for the inputs
  GC has not got (F's features, D+'s labels), and F starts untrained.
  So does an SC model with the colour context started from one without:
  G's context inputs get zero weights, F is the source's.
  """
  source_config = saved_config(source)
  source_dial = source_config is not None and source_config.realism_dial
  if source_dial and not model.config.realism_dial:
    raise TrainingError(f"--init_from={source} has the realism dial, which "
                        "its G was trained with: add "
                        "--set=realism_dial=true")
  if (model.config.selective and source_config is not None
      and (not source_config.selective
           or (model.config.colour_context
               and not source_config.colour_context))):
    _warm_start_widened(model, source, source_config)
    return
  networks = dict(encoder=model.encoder, generator=model.generator)
  if model.semantic_encoder is not None:
    networks["semantic_encoder"] = model.semantic_encoder
  if source_dial:  # Else the dial starts at zero: the source's decode.
    networks["realism_modulation"] = model.realism_modulation
  if not _is_export(source):
    _warm_start_from_run(model, source, networks)
    return
  checkpoint = tf.train.Checkpoint(**networks,
                                   **_exported_entropy_model(model))
  path = os.path.join(source, "variables", "variables")
  status = checkpoint.read(path)
  status.expect_partial().assert_existing_objects_matched()
  print(f"warm-started from {path}")


def _warm_start_from_run(model, source, networks):
  """`warm_start` from a run's checkpoint folder: `networks` (name ->
  `model`'s layer), the entropy model and D take the weights validation
  measured there (the weight average where the run keeps one, as
  `export_checkpoint` exports); not the optimizers or the step counter."""
  if saved_config(source) is None or tf.train.latest_checkpoint(source) is None:
    raise TrainingError(f"--init_from={source} holds no checkpoint or "
                        "SavedModel")
  restored, path, _ = _restored_run(source)
  layers = dict(networks, entropy_model=model.entropy_model,
                discriminator=model.discriminator)
  for name, layer in layers.items():
    try:
      layer.set_weights(getattr(restored, name).get_weights())
    except ValueError as e:
      raise TrainingError(f"--init_from={source}: its {name} does not fit "
                          f"this config ({e})") from None
  averaged = " (its weight average)" if restored.weight_average else ""
  print(f"warm-started from {path}{averaged}")


def _restored_run(source):
  """The newest checkpoint of the run folder `source` (or the one its
  best/ holds) in a model of the run's config, with the weights that run
  validates and exports (`inference_model`: its average where it keeps
  one), the checkpoint's path and the run's recipe."""
  path = tf.train.latest_checkpoint(source)
  # Runs saved before the config/recipe split kept the recipe in
  # config.json; of the recipe only the weight average shapes a checkpoint.
  with open(_run_file(source, "recipe.json")
            or _run_file(source, "config.json")) as f:
    recipe = Recipe.from_json(f.read())
  model = GenerativeCompressionModel(saved_config(source), Recipe(
      lambda_perceptual=0.0, weight_average=recipe.weight_average))
  status = tf.train.Checkpoint(model=model).read(path)
  status.expect_partial().assert_existing_objects_matched()
  if model.weight_average is not None:
    model.weight_average.copy_to(model.generator_variables)
  return model, path, recipe


def _exported_entropy_model(model):
  """What an export holds of `model`'s entropy model, as checkpoint
  children: a hyperprior's whole layer (its coder keeps it), nothing of a
  factorized prior (its coder keeps only code tables)."""
  if model.config.entropy_model == "hyperprior":
    return dict(coder=tf.train.Checkpoint(layer=model.entropy_model))
  return {}


def _is_export(source):
  """Whether `source` is an exported model (else a checkpoint folder)."""
  return os.path.exists(os.path.join(source, "saved_model.pb"))


def _run_file(source, name):
  """The file `name` of the run whose checkpoint folder is `source` (in it
  or, for a run's best/, beside it), or None."""
  for folder in (source, os.path.dirname(os.path.normpath(source))):
    path = os.path.join(folder, name)
    if os.path.exists(path):
      return path
  return None


def saved_config(source):
  """The config of an export (model.json) or of a run's checkpoint folder
  (config.json in it or, for a run's best/, beside it), or None."""
  path = os.path.join(source, export.MODEL_JSON)
  if os.path.exists(path):
    with open(path) as f:
      return Config.from_json(json.dumps(json.load(f)["config"]))
  path = _run_file(source, "config.json")
  if path is None:
    return None
  with open(path) as f:
    return Config.from_json(f.read())


def export_checkpoint(source, export_dir,
                      default_realism=export.DEFAULT_REALISM):
  """Exports a run's checkpoint without training: the newest in the
  checkpoint folder `source`, or the one validation chose if `source` is
  the run's best/. The weights are those `train` would export at that
  step (the average where the run keeps one); `default_realism` is the r
  a model with the realism dial decodes with unless told. Returns (step,
  model id); TrainingError if `source` holds no run's checkpoint."""
  config = saved_config(source)
  if config is None or tf.train.latest_checkpoint(source) is None:
    raise TrainingError(f"{source} holds no checkpoint of a run (its "
                        "checkpoint files and config.json)")
  model, path, recipe = _restored_run(source)
  step = int(path.rsplit("-", 1)[1])
  model_id = export.export(model, export_dir, default_realism)
  # Runs started before options.json was kept have none.
  options = _run_file(source, "options.json")
  if options is not None:
    with open(options) as f:
      options = json.load(f)
  write_training_record(export_dir, step, options, config, recipe)
  return step, model_id


def _warm_start_widened(model, source, source_config):
  """`warm_start` of the SC `model` from the run or export `source` of a
  model whose G takes fewer inputs: GC (G's input [ŵ, noise], D's the
  image) or SC without the colour context (G's [ŵ, F's features,
  noise]); the new inputs get zero weights."""
  source_model = GenerativeCompressionModel(source_config)
  warm_start(source_model, source)
  config = model.config
  # G's input is [ŵ, F's features, colour context, noise].
  new_inputs_at = config.latent_channels
  pairs = [(source_model.encoder, model.encoder, None)]
  if source_config.selective:
    new_inputs_at += config.semantic_filters[-1]
    pairs.append((source_model.semantic_encoder, model.semantic_encoder,
                  None))
  pairs.append((source_model.generator, model.generator, new_inputs_at))
  if not _is_export(source) or _exported_entropy_model(source_model):
    pairs.append((source_model.entropy_model, model.entropy_model, None))
  if not _is_export(source):
    # D's input is [image, D+'s one-hot labels]; GC's the image.
    pairs.append((source_model.discriminator, model.discriminator, 3))
  if source_model.realism_modulation is not None:
    pairs.append((source_model.realism_modulation, model.realism_modulation,
                  None))
  for source_layer, layer, insert_at in pairs:
    try:
      layer.set_weights([
          _widened(value, variable.shape, insert_at)
          for value, variable in zip(source_layer.get_weights(),
                                     layer.weights, strict=True)])
    except ValueError as e:
      raise TrainingError(f"--init_from={source}: its model does not fit "
                          f"this SC config ({layer.name}: {e})") from None
  untrained = "" if source_config.selective else " (F untrained)"
  kind = "SC" if source_config.selective else "GC"
  print(f"warm-started SC from the {kind} model in {source}{untrained}")


def _widened(value, shape, insert_at):
  """`value` as a variable of `shape`: the same, or a convolution kernel
  [kh, kw, in, out] given zero weights for new inputs at `insert_at`."""
  if tuple(value.shape) == tuple(shape):
    return value
  if (insert_at is None or value.ndim != 4 or len(shape) != 4
      or tuple(value.shape[:2]) + tuple(value.shape[3:])
      != tuple(shape[:2]) + tuple(shape[3:]) or shape[2] < value.shape[2]):
    raise ValueError(f"shape {list(value.shape)} against {list(shape)}")
  zeros = np.zeros(tuple(shape[:2]) + (shape[2] - value.shape[2], shape[3]),
                   value.dtype)
  return np.concatenate([value[:, :, :insert_at], zeros,
                         value[:, :, insert_at:]], axis=2)


def training_images(config, options):
  """(paths, label source or None) of the usable training images; prints
  what was skipped and raises TrainingError if nothing is left."""
  folder = data.scan_folder(options.data_dir, min_size=options.crop_size)
  print(f"{options.data_dir}: {len(folder.paths)} training images, "
        f"{len(folder.unreadable)} unreadable and {len(folder.too_small)} "
        f"smaller than {options.crop_size} px skipped")
  if not folder.paths:
    raise TrainingError(f"no usable training images in {options.data_dir}")
  paths, labels, skipped = labelled_images(folder, options.data_dir, config,
                                           options.labels_dir)
  if options.labels_dir:
    for message in skipped:
      logging.warning("skipping %s", message)
    print(f"{options.labels_dir}: {len(paths)} images with label maps, "
          f"{len(skipped)} without a usable one skipped")
    if not paths:
      raise TrainingError(f"no image in {options.data_dir} has a usable "
                          f"label map in {options.labels_dir}")
  return paths, labels


def train(config, options, recipe=None):
  """Trains the model `config` with `recipe` (default `Recipe()`, the
  "base" recipe; `tfgc train`'s default is "adversarial") as `options` say,
  resuming the run in `options.checkpoint_dir` if there is one; returns
  `Trained`.

  Raises TrainingError before any work if the options cannot work, or if
  the checkpoint folder holds a run of another config.
  """
  recipe = recipe or Recipe()
  options.check(config)
  strategy = make_strategy(options.strategy, options.cpu_devices)
  if options.seed is not None:
    tf.keras.utils.set_random_seed(options.seed)
    tf.config.experimental.enable_op_determinism()
  paths, labels = training_images(config, options)
  synthesis = None
  if config.selective:
    synthesis = (options.synthesis_instance_fraction,
                 options.synthesis_box_fraction,
                 options.synthesis_background_fraction)
  dataset = data.training_dataset(
      paths, options.crop_size, options.batch_size, seed=options.seed,
      max_short_side=options.max_short_side, labels=labels,
      synthesis=synthesis, max_zoom_out=options.max_zoom_out)

  os.makedirs(options.checkpoint_dir, exist_ok=True)
  check_run_config(options.checkpoint_dir, config, recipe)
  with open(os.path.join(options.checkpoint_dir, "options.json"), "w") as f:
    json.dump(options.portable(), f, indent=2)
  with strategy.scope():
    model = GenerativeCompressionModel(config, recipe,
                                       precision=options.precision)
    model.compile()
  checkpoint = tf.train.Checkpoint(
      model=model, generator_optimizer=model.generator_optimizer,
      discriminator_optimizer=model.discriminator_optimizer)
  subdir = worker_subdir(strategy)
  own_dir = (os.path.join(options.checkpoint_dir, subdir) if subdir
             else options.checkpoint_dir)
  manager = tf.train.CheckpointManager(checkpoint, own_dir, max_to_keep=3)
  latest = tf.train.latest_checkpoint(options.checkpoint_dir)
  if latest:
    checkpoint.restore(latest).assert_consumed()
    print(f"resumed from {latest} at step {callbacks.global_step(model)}")
  elif options.init_from:
    warm_start(model, init_source(options.init_from))

  run_callbacks = _callbacks(config, recipe, options, checkpoint, manager,
                             own_dir, subdir)
  step = callbacks.global_step(model)
  try:
    if step < options.steps:
      # The progress lines are the callbacks' (windowed means, ETA): Keras'
      # own would print the means they reset, zeros at the epoch's end.
      model.fit(dataset, epochs=1, steps_per_epoch=options.steps - step,
                callbacks=run_callbacks, verbose=0)
  finally:
    step = callbacks.global_step(model)
    if manager.latest_checkpoint != os.path.join(own_dir, f"ckpt-{step}"):
      manager.save(checkpoint_number=step)
    print(f"checkpoint at step {step} in {own_dir}")
  digest = export.model_id(config, model.weights)
  print(f"weights digest {digest}")
  # Only the chief exports.
  model_id = None if subdir else _export(model, options, step, config, recipe)
  return Trained(step, digest, model_id, model)


def _export(model, options, step, config, recipe):
  """Exports the trained `model` to `options.export_path` with its
  training.json and says where; returns the model id (None, and says so,
  without an export path)."""
  export_dir = options.export_path
  if not export_dir:
    print("not exported: --export_dir is empty")
    return None
  model_id = export.export(model, export_dir)
  write_training_record(export_dir, step, options.portable(), config, recipe)
  print(f"exported model {model_id} to {export_dir}")
  return model_id


def write_training_record(export_dir, step, options, config, recipe):
  """An export's training.json: the step, the run's options (portable, see
  `RunOptions.portable`, with the command that started it; None if not
  known), config and recipe."""
  with open(os.path.join(export_dir, "training.json"), "w") as f:
    json.dump(dict(step=step, command=(options or {}).get("command", []),
                   options=options, config=json.loads(config.to_json()),
                   recipe=json.loads(recipe.to_json())), f, indent=2)


def _callbacks(config, recipe, options, checkpoint, manager, own_dir,
               subdir):
  """The recipe's step sizes, checkpoints, TensorBoard log and (with
  `val_dir`) validation, whose figures also go to
  OWN_DIR/validation.jsonl."""
  log_dir = options.log_dir or os.path.join(options.checkpoint_dir, "logs")
  if subdir:
    log_dir = os.path.join(log_dir, subdir)
  writer = tf.summary.create_file_writer(log_dir)
  run_callbacks = [
      callbacks.LearningRate(recipe),
      callbacks.PeriodicCheckpoint(manager, options.checkpoint_every),
      callbacks.TrainingLog(writer, options.log_every, options.steps)]
  examples = validation_examples(config, options) if options.val_dir else []
  if examples:
    run_callbacks.append(callbacks.FullImageValidation(
        examples, writer, options.validate_every,
        history=os.path.join(own_dir, "validation.jsonl"),
        **validation_judges(checkpoint, os.path.join(own_dir, "best"),
                            options.precision)))
  elif options.val_dir:
    logging.warning("no usable validation images in %s", options.val_dir)
  return run_callbacks
