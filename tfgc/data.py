"""tf.data input pipelines: folders of photos -> batches of uint8 crops.

Files are checked once up front (Pillow: decodes, has at least the crop
size); unreadable files and images smaller than the crop are skipped and
counted, never crash a run. Readable images are decoded once (EXIF
orientation applied, converted to 8-bit RGB, optionally downscaled), cached
in memory, and then randomly cropped and flipped on every pass.
"""

import dataclasses
import logging
import os
from typing import List, Tuple

import numpy as np
import tensorflow as tf
from PIL import Image

from tfgc.images import ImageError, read_image

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")


@dataclasses.dataclass(frozen=True)
class ImageFolder:
  """The usable images of a folder and what was skipped.

  paths: readable images at least `min_size` on each side, sorted.
  unreadable: files with an image suffix that Pillow could not decode.
  too_small: readable images smaller than `min_size` (skipped, not padded).
  """
  paths: Tuple[str, ...]
  unreadable: Tuple[str, ...]
  too_small: Tuple[str, ...]


def list_files(folder, suffixes=IMAGE_SUFFIXES):
  """Files under `folder` ending in `suffixes` (any case), recursively,
  sorted."""
  found = []
  for root, _, files in os.walk(folder):
    found.extend(os.path.join(root, name) for name in files
                 if name.lower().endswith(suffixes))
  return sorted(found)


def scan_folder(folder, min_size=1):
  """Checks every image under `folder` once; see `ImageFolder`."""
  paths, unreadable, too_small = [], [], []
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
  return ImageFolder(tuple(paths), tuple(unreadable), tuple(too_small))


def load_rgb(path, max_short_side=0):
  """Decodes an image file to uint8 [H, W, 3] (see `images.read_image`;
  no pixel limit: training photos are the user's own).

  With `max_short_side` > 0, images whose shorter side is longer are
  downscaled (Lanczos) so that it equals `max_short_side`.
  """
  image = read_image(path, max_pixels=None)
  short = min(image.shape[:2])
  if not max_short_side or short <= max_short_side:
    return image
  scale = max_short_side / short
  size = (max(1, round(image.shape[1] * scale)),
          max(1, round(image.shape[0] * scale)))
  return np.asarray(Image.fromarray(image).resize(size, Image.LANCZOS))


def decoded_images(paths: List[str], max_short_side=0):
  """Dataset of uint8 [H, W, 3] images, decoded in parallel."""
  def decode(path):
    image = tf.numpy_function(
        lambda p: load_rgb(p.decode(), max_short_side), [path], tf.uint8)
    return tf.ensure_shape(image, [None, None, 3])
  return tf.data.Dataset.from_tensor_slices(list(paths)).map(
      decode, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)


def training_dataset(paths, crop_size, batch_size, seed=None,
                     max_short_side=0, cache=True):
  """Endless batches of random crops: uint8 [batch_size, crop, crop, 3].

  Each image's decoded pixels are cached in memory (`cache`) so decoding
  happens once; crops and horizontal flips are drawn anew every pass.
  """
  images = decoded_images(paths, max_short_side)
  if cache:
    images = images.cache()
  images = images.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
  images = images.repeat()

  def augment(image):
    crop = tf.image.random_crop(image, [crop_size, crop_size, 3], seed=seed)
    return tf.image.random_flip_left_right(crop, seed=seed)

  return (images.map(augment, num_parallel_calls=tf.data.AUTOTUNE,
                     deterministic=seed is not None)
          .batch(batch_size, drop_remainder=True)
          .prefetch(tf.data.AUTOTUNE))
