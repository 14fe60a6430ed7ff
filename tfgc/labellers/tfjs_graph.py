"""TensorFlow.js graph models run in TensorFlow, without `tensorflowjs`.

A TFJS graph model is a JSON file (`modelTopology`: a GraphDef whose
weights are empty `Const` nodes; `weightsManifest`: where each weight's
bytes are) and one or more binary shards. Each weight is put back into its
`Const` node (float16 and uint8/uint16-quantised weights are expanded to
float32), the graph is imported and pruned to the signature's input and
output: a concrete function of the same graph TFJS runs.

Every file is checked against its SHA-256 before it is read, so a labeller
is always the network its name promises.
"""

import contextlib
import hashlib
import json
import os

import numpy as np

from tfgc.errors import TfgcError


class WeightsError(TfgcError):
  """A labeller's weight files are missing or not the pinned ones."""


def check_files(folder, sha256, fix):
  """Raises WeightsError unless each `name: digest` of `sha256` is a file
  in `folder` with that SHA-256; `fix` says what restores them."""
  for name, digest in sha256.items():
    path = os.path.join(folder, name)
    try:
      with open(path, "rb") as f:
        actual = hashlib.sha256(f.read()).hexdigest()
    except FileNotFoundError:
      raise WeightsError(f"missing labeller weights {path}: {fix}") from None
    if actual != digest:
      raise WeightsError(f"labeller weights {path} are damaged or not the "
                         f"pinned version (SHA-256 {actual[:12]}…, expected "
                         f"{digest[:12]}…): {fix}")


def _weight_values(spec, data, offset):
  """One weight of the manifest from the shards' bytes at `offset`:
  (float32 or int32 array of its shape, bytes it took)."""
  count = int(np.prod(spec["shape"], dtype=np.int64))
  quantization = spec.get("quantization")
  dtype = np.dtype(quantization["dtype"] if quantization else spec["dtype"])
  raw = np.frombuffer(data, dtype, count, offset)
  if not quantization:
    values = raw
  elif quantization["dtype"] == "float16":
    values = raw.astype(np.float32)
  else:  # uint8 / uint16 affine quantisation.
    values = (raw.astype(np.float32) * quantization["scale"]
              + quantization["min"])
  return values.reshape(spec["shape"]), count * dtype.itemsize


# TFJS's fused convolutions and the plain ops they stand for.
FUSED_CONVOLUTIONS = {"_FusedConv2D": "Conv2D",
                      "FusedDepthwiseConv2dNative": "DepthwiseConv2dNative"}
ACTIVATIONS = ("Relu", "Relu6", "Elu", "Selu", "Sigmoid", "Tanh")
CONVOLUTION_ATTRS = ("T", "strides", "padding", "data_format", "dilations",
                     "explicit_paddings")


def _unfused(graph):
  """`graph` with each TFJS fused convolution (convolution, BiasAdd, an
  optional activation) as the two or three TF ops; the last keeps the
  node's name, so its consumers are unchanged."""
  from tensorflow.core.framework import graph_pb2
  result = graph_pb2.GraphDef()
  result.versions.CopyFrom(graph.versions)
  for node in graph.node:
    if node.op not in FUSED_CONVOLUTIONS:
      result.node.add().CopyFrom(node)
      continue
    fused = [op.decode() for op in node.attr["fused_ops"].list.s]
    if fused[:1] != ["BiasAdd"] or len(fused) > 2 or (
        fused[1:] and fused[1] not in ACTIVATIONS):
      raise ValueError(f"{node.name}: unsupported fused ops {fused}")
    activation = fused[1] if len(fused) == 2 else None
    convolution = result.node.add(
        name=f"{node.name}/convolution", op=FUSED_CONVOLUTIONS[node.op],
        input=node.input[:2], device=node.device)
    for attr in CONVOLUTION_ATTRS:
      if attr in node.attr:
        convolution.attr[attr].CopyFrom(node.attr[attr])
    bias_add = result.node.add(
        name=f"{node.name}/bias_add" if activation else node.name,
        op="BiasAdd", input=[convolution.name, node.input[2]],
        device=node.device)
    bias_add.attr["T"].CopyFrom(node.attr["T"])
    if activation:
      output = result.node.add(name=node.name, op=activation,
                               input=[bias_add.name], device=node.device)
      output.attr["T"].CopyFrom(node.attr["T"])
  return result


def load(json_path, outputs=None):
  """The TFJS graph model at `json_path` (shards beside it) as a concrete
  function of its signature's single input: its single output, or the
  tensors named `outputs` (a list, returned in that order)."""
  import tensorflow as tf
  from google.protobuf import json_format
  from tensorflow.core.framework import graph_pb2

  with open(json_path) as f:
    model = json.load(f)
  graph = json_format.ParseDict(model["modelTopology"], graph_pb2.GraphDef(),
                                ignore_unknown_fields=True)
  folder = os.path.dirname(json_path)
  weights = {}
  for group in model["weightsManifest"]:
    data = b"".join(open(os.path.join(folder, p), "rb").read()
                    for p in group["paths"])
    offset = 0
    for spec in group["weights"]:
      weights[spec["name"]], size = _weight_values(spec, data, offset)
      offset += size
  graph = _unfused(graph)
  for node in graph.node:
    if node.name in weights:
      values = weights[node.name]
      if node.attr["dtype"].type == tf.int64.as_datatype_enum:
        values = values.astype(np.int64)  # TFJS stores int64 as int32.
      node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(values))
      node.attr["dtype"].type = tf.as_dtype(values.dtype).as_datatype_enum

  # Older converters put the signature in the user's metadata.
  signature = model.get("signature") or model["userDefinedMetadata"][
      "signature"]
  (input_name,) = [spec["name"] for spec in signature["inputs"].values()]
  if outputs is None:
    (output_name,) = [spec["name"]
                      for spec in signature["outputs"].values()]
  imported = tf.compat.v1.wrap_function(
      lambda: tf.compat.v1.import_graph_def(graph, name=""), [])
  tensor = imported.graph.get_tensor_by_name
  return imported.prune(
      tensor(input_name),
      tensor(output_name) if outputs is None else [tensor(name)
                                                   for name in outputs])


@contextlib.contextmanager
def remapping_off():
  """Runs graphs without Grappler's remapper. With oneDNN (TF 2.14 on CPU)
  the remapper fuses a convolution, its bias and a residual add into one
  kernel that crashes the process (SIGSEGV) on BlazeFace's residual add
  whose other input is a channel `Pad`; unfused, the graph runs."""
  import tensorflow as tf
  before = tf.config.optimizer.get_experimental_options().get("remapping",
                                                              True)
  tf.config.optimizer.set_experimental_options({"remapping": False})
  try:
    yield
  finally:
    tf.config.optimizer.set_experimental_options({"remapping": before})
