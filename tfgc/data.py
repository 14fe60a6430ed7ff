"""tf.data input pipelines: folders of photos -> batches of uint8 crops.

Files are checked once up front (Pillow: decodes, has at least the crop
size); unreadable files and images smaller than the crop are skipped and
counted, never crash a run. Readable images are decoded once (EXIF
orientation applied, converted to 8-bit RGB, optionally downscaled), cached
in memory, and then randomly cropped (optionally zoomed out: a larger
square downscaled to the crop size) and flipped on every pass.

With label maps (SC, or D+), each image's map is cropped and flipped with
it. Label maps are paired with images by file name (`find_label_map`) or
made by the stand-in labeller; in SC a synthesis mask is drawn for every
crop: a whole class present in it ("random instance"), a random box, or
nothing, in the proportions given.
"""

import dataclasses
import logging
import os
from typing import List, Optional, Tuple

import numpy as np
import tensorflow as tf
from PIL import Image

from tfgc import labelmaps
from tfgc.images import ImageError, list_files, read_image
from tfgc.labellers.standin import cluster_labels


@dataclasses.dataclass(frozen=True)
class ImageFolder:
  """The usable images of a folder and what was skipped.

  paths: readable images at least `min_size` on each side, sorted.
  sizes: (H, W) of each of `paths`, as decoded (EXIF orientation applied).
  unreadable: files with an image suffix that Pillow could not decode.
  too_small: readable images smaller than `min_size` (skipped, not padded).
  """
  paths: Tuple[str, ...]
  sizes: Tuple[Tuple[int, int], ...]
  unreadable: Tuple[str, ...]
  too_small: Tuple[str, ...]


def scan_folder(folder, min_size=1):
  """Checks every image under `folder` once; see `ImageFolder`."""
  paths, sizes, unreadable, too_small = [], [], [], []
  for path in list_files(folder):
    try:
      # The pipeline's own decoder: what passes here decodes there.
      height, width = read_image(path, max_pixels=None).shape[:2]
    except ImageError as e:
      logging.warning("skipping %s", e)
      unreadable.append(path)
      continue
    if min(width, height) < min_size:
      too_small.append(path)
      continue
    paths.append(path)
    sizes.append((height, width))
  return ImageFolder(tuple(paths), tuple(sizes), tuple(unreadable),
                     tuple(too_small))


def load_rgb(path, max_short_side=0):
  """Decodes an image file to uint8 [H, W, 3] (see `images.read_image`;
  no pixel limit: training photos are the user's own).

  With `max_short_side` > 0, images whose shorter side is longer are
  downscaled (Lanczos) so that it equals `max_short_side`.
  """
  return load_example(path, max_short_side)[0]


def find_label_map(image_path, data_dir, labels_dir):
  """The label map of `image_path` in `labels_dir`, or None.

  For DATA_DIR/sub/NAME.ext, tries LABELS_DIR/sub/ followed by NAME.png,
  NAME_labelIds.png, and, for Cityscapes' NAME = BASE_leftImg8bit,
  BASE_gtFine_labelIds.png.
  """
  relative = os.path.relpath(image_path, data_dir)
  folder, name = os.path.split(os.path.splitext(relative)[0])
  names = [f"{name}.png", f"{name}_labelIds.png"]
  if name.endswith("_leftImg8bit"):
    names.append(name[:-len("_leftImg8bit")] + "_gtFine_labelIds.png")
  for candidate in names:
    path = os.path.join(labels_dir, folder, candidate)
    if os.path.isfile(path):
      return path
  return None


def pair_label_maps(folder, data_dir, labels_dir, num_classes):
  """Pairs the images of `folder` (an `ImageFolder` of `data_dir`) with
  their label maps, checking each map once.

  Returns (image paths, label-map paths, skipped), the first two aligned;
  skipped: messages for images without a usable map (none found, not a
  single-channel map, ids out of range, another size).
  """
  images, label_paths, skipped = [], [], []
  for path, size in zip(folder.paths, folder.sizes):
    labels_path = find_label_map(path, data_dir, labels_dir)
    if labels_path is None:
      skipped.append(f"{path}: no label map in {labels_dir}")
      continue
    try:
      labelmaps.read_label_map(labels_path, num_classes, size)
    except (ImageError, labelmaps.LabelMapError) as e:
      skipped.append(str(e))
      continue
    images.append(path)
    label_paths.append(labels_path)
  return tuple(images), tuple(label_paths), skipped


def load_example(path, max_short_side=0, labels_path=None, num_classes=0,
                 standin_classes=0):
  """An image, uint8 [H, W, 3], and its labels, uint8 [H, W] (None
  without `labels_path` or `standin_classes`), downscaled alike."""
  image = read_image(path, max_pixels=None)
  labels = None
  if labels_path:
    labels = labelmaps.read_label_map(labels_path, num_classes,
                                      image.shape[:2])
  short = min(image.shape[:2])
  if max_short_side and short > max_short_side:
    scale = max_short_side / short
    size = (max(1, round(image.shape[1] * scale)),
            max(1, round(image.shape[0] * scale)))
    image = np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))
    if labels is not None:
      labels = np.asarray(Image.fromarray(labels).resize(size,
                                                         Image.NEAREST))
  if standin_classes:
    labels = cluster_labels(image, standin_classes)
  return image, labels


@dataclasses.dataclass(frozen=True)
class LabelSource:
  """Where training label maps come from.

  num_classes: ids are in [0, num_classes).
  paths: label-map files aligned with the image paths (see
    `find_label_map`), or None for the stand-in labeller, which makes
    `num_classes` colour/position regions per image (not semantic).
  """
  num_classes: int
  paths: Optional[Tuple[str, ...]] = None

  def load(self, index, path, max_short_side=0):
    """Image `index` at `path` -> (uint8 [H, W, 3], uint8 [H, W])."""
    if self.paths is None:
      return load_example(path, max_short_side,
                          standin_classes=self.num_classes)
    return load_example(path, max_short_side, self.paths[index],
                        self.num_classes)


def decoded_examples(paths: List[str], max_short_side=0, labels=None):
  """Dataset of uint8 [H, W, 3] images decoded in parallel; with a
  `LabelSource`, of dicts with "image" and "labels" (uint8 [H, W])."""
  def decode(index, path):
    if labels is None:
      image = tf.numpy_function(
          lambda p: load_rgb(p.decode(), max_short_side), [path], tf.uint8)
      return tf.ensure_shape(image, [None, None, 3])
    image, label_map = tf.numpy_function(
        lambda i, p: labels.load(int(i), p.decode(), max_short_side),
        [index, path], (tf.uint8, tf.uint8))
    return dict(image=tf.ensure_shape(image, [None, None, 3]),
                labels=tf.ensure_shape(label_map, [None, None]))
  return tf.data.Dataset.from_tensor_slices(
      (tf.range(len(paths)), list(paths))).map(
          decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def fresh_seed():
  """A random seed for the stateless ops below: int64 [2]."""
  return tf.random.uniform([2], maxval=tf.int64.max, dtype=tf.int64)


def split_seed(seed, count):
  """`count` independent seeds from one: int64 [count, 2]. Every random
  decision draws from its own, so no two decisions are correlated."""
  return tf.random.experimental.stateless_split(seed, count)


def _uniform_int(seed, low, high):
  """An int32 uniform in [low, high) drawn from `seed`."""
  return tf.random.stateless_uniform([], seed, low, high, dtype=tf.int32)


def random_synthesis_mask(labels, fractions, seed=None):
  """A training synthesis mask for one crop: bool [H, W], True = synthesise.

  `fractions` = (instance, box, background), the shares of crops whose
  mask is: all pixels of one class present in `labels` (uint8 [H, W]); a
  random box of 1/4 to 3/4 of each side (height and width, and their
  offsets, drawn apart); everything but one class present other than
  background (class 0), as `--keep=CLASS` asks in use, so G learns to
  paint a background around what was kept (a crop with nothing but
  background is painted whole). The rest synthesise nothing. `seed`:
  int64 [2] for the stateless draws (None: a fresh one).
  """
  instance_fraction, box_fraction, background_fraction = fractions
  shape = tf.shape(labels)
  seeds = split_seed(fresh_seed() if seed is None else seed, 7)
  draw = tf.random.stateless_uniform([], seeds[0])
  classes = tf.unique(tf.reshape(labels, [-1])).y

  def instance():
    return tf.equal(labels, classes[_uniform_int(seeds[1], 0,
                                                 tf.size(classes))])

  def box():
    def span(size, length_seed, start_seed):
      length = _uniform_int(length_seed, size // 4, 3 * size // 4 + 1)
      start = _uniform_int(start_seed, 0, size - length + 1)
      inside = tf.range(size)
      return (inside >= start) & (inside < start + length)
    return (span(shape[0], seeds[2], seeds[3])[:, None]
            & span(shape[1], seeds[4], seeds[5])[None, :])

  def background():
    kept = tf.boolean_mask(classes, classes != 0)
    return tf.cond(
        tf.size(kept) > 0,
        lambda: tf.not_equal(
            labels, kept[_uniform_int(seeds[6], 0, tf.size(kept))]),
        lambda: tf.ones(shape, tf.bool))

  def nothing():
    return tf.zeros(shape, tf.bool)

  return tf.case(
      [(draw < instance_fraction, instance),
       (draw < instance_fraction + box_fraction, box),
       (draw < instance_fraction + box_fraction + background_fraction,
        background)],
      default=nothing)


def random_crop(example, crop_size, max_zoom_out=1.0, seed=None):
  """A random square crop, flipped left-right half of the time.

  example: uint8 [H, W, C], RGB in channels 0-2 and, if C = 4, a label
  map in channel 3; H and W at least `crop_size`.
  With `max_zoom_out` > 1 the crop first covers a square of crop_size * s
  source pixels, s uniform in [1, max_zoom_out] (capped by the shorter
  side), which is then downscaled to crop_size: RGB by area averaging, the
  label map by nearest neighbour (it stays a map of the same classes).
  `seed`: int64 [2] for the stateless draws of zoom, position and flip,
  each from its own split of it (None: a fresh one).
  Returns uint8 [crop_size, crop_size, C].
  """
  channels = example.shape[-1]
  zoom_seed, crop_seed, flip_seed = tf.unstack(
      split_seed(fresh_seed() if seed is None else seed, 3))
  if max_zoom_out > 1:
    zoom = tf.random.stateless_uniform([], zoom_seed, 1.0, max_zoom_out)
    side = tf.cast(tf.round(crop_size * zoom), tf.int32)
    side = tf.minimum(side, tf.reduce_min(tf.shape(example)[:2]))
    crop = tf.image.stateless_random_crop(example, [side, side, channels],
                                          crop_seed)
    size = [crop_size, crop_size]
    rgb = tf.image.resize(tf.cast(crop[..., :3], tf.float32), size,
                          method=tf.image.ResizeMethod.AREA)
    rgb = tf.cast(tf.round(tf.clip_by_value(rgb, 0, 255)), tf.uint8)
    if channels == 4:
      label_map = tf.image.resize(
          crop[..., 3:], size, method=tf.image.ResizeMethod.NEAREST_NEIGHBOR)
      rgb = tf.concat([rgb, label_map], -1)
    crop = tf.ensure_shape(rgb, [crop_size, crop_size, channels])
  else:
    crop = tf.image.stateless_random_crop(
        example, [crop_size, crop_size, channels], crop_seed)
  return tf.image.stateless_random_flip_left_right(crop, flip_seed)


def training_dataset(paths, crop_size, batch_size, seed=None,
                     max_short_side=0, cache=True, labels=None,
                     synthesis=None, max_zoom_out=1.0):
  """Endless batches of random crops: uint8 [batch_size, crop, crop, 3].

  Each image's decoded pixels are cached in memory (`cache`) so decoding
  happens once; crops (`random_crop`, zoomed out by up to `max_zoom_out`)
  and horizontal flips are drawn anew every pass.
  With a `LabelSource` the batches are dicts of "image" and "labels"
  (uint8 [batch, crop, crop]), cropped and flipped together; with
  `synthesis` = (instance, box, background) fractions (SC) they also hold
  a "synthesis_mask" (bool [batch, crop, crop], `random_synthesis_mask`).
  Every example draws its crop and mask from its own seed, from a stream
  seeded by `seed` (None: fresh every run).
  """
  examples = decoded_examples(paths, max_short_side, labels)
  if cache:
    examples = examples.cache()
  examples = examples.shuffle(len(paths), seed=seed,
                              reshuffle_each_iteration=True)
  examples = examples.repeat()
  # Pairs of int64 from a seeded stream: one stateless seed per example.
  seeds = tf.data.Dataset.random(seed=seed).batch(2, drop_remainder=True)
  examples = tf.data.Dataset.zip((examples, seeds))

  def augment(example, example_seed):
    crop_seed, mask_seed = tf.unstack(split_seed(example_seed, 2))
    if labels is None:
      return random_crop(example, crop_size, max_zoom_out, crop_seed)
    stacked = tf.concat([example["image"], example["labels"][..., None]], -1)
    crop = random_crop(stacked, crop_size, max_zoom_out, crop_seed)
    augmented = dict(image=crop[..., :3], labels=crop[..., 3])
    if synthesis is not None:
      augmented["synthesis_mask"] = random_synthesis_mask(
          augmented["labels"], synthesis, seed=mask_seed)
    return augmented

  return (examples.map(augment, num_parallel_calls=tf.data.AUTOTUNE,
                       deterministic=seed is not None)
          .batch(batch_size, drop_remainder=True)
          .prefetch(tf.data.AUTOTUNE))
