#!/usr/bin/python3
"""Writes Keras weight files with Debian's python3-h5py, in the layouts Keras's own saving code uses (Keras is
not installed on this machine; the paths follow keras/src/saving/saving_lib.py and keras/src/legacy/saving):

- keras3.weights.h5   Keras 3 model.save_weights: layers/<class name in snake case, _N>/vars/<i>, the layer's
                      variables in order (0 kernel, 1 bias), and an empty top-level vars group
- keras3.keras        Keras 3 model.save: a zip of metadata.json, config.json (the Sequential's config, the
                      Conv2DTranspose layers named up1 and up2) and model.weights.h5 (the layout above)
- legacy.h5           TF 2 / Keras 2 model.save('x.h5'): model_weights/<layer>/<layer>/kernel:0 and bias:0, with
                      the layer_names and weight_names attributes
- keras_weights.npz   the same arrays (numpy.savez), to compare with what the reader gets
The weights are those of the TF.js model in tfjs_model/ (run Golden/generator/make_tfjs_model.mjs first), so the
layer loaded from these files is also compared with TF.js's output of layer up1.

  /usr/bin/python3 make_keras_files.py
"""
import io
import json
import os
import zipfile

import h5py
import numpy

here = os.path.dirname(os.path.abspath(__file__))
# The weights of the TF.js model in tfjs_model/ (same layers up1, up2), so that the layer loaded from these files
# can be compared with TF.js's Keras-layers output of up1 (tfjs_model/forward.json).
model = json.load(open(os.path.join(here, "tfjs_model", "model.json")))
blob = open(os.path.join(here, "tfjs_model", model["weightsManifest"][0]["paths"][0]), "rb").read()
arrays, offset = {}, 0
for spec in model["weightsManifest"][0]["weights"]:
    count = int(numpy.prod(spec["shape"]))
    arrays[spec["name"]] = numpy.frombuffer(blob, "<f4", count, offset).reshape(spec["shape"])
    offset += 4 * count
up1_kernel = arrays["up1/kernel"]  # [kh, kw, filters, in]
up1_bias = arrays["up1/bias"]
up2_kernel = arrays["up2/kernel"]
numpy.savez(os.path.join(here, "keras_weights.npz"), up1_kernel=up1_kernel, up1_bias=up1_bias, up2_kernel=up2_kernel)


def keras3_weights(target):
    with h5py.File(target, "w") as f:
        f.create_group("vars")
        v = f.create_group("layers/conv2d_transpose/vars")
        v["0"] = up1_kernel
        v["1"] = up1_bias
        f.create_group("layers/conv2d_transpose_1/vars")["0"] = up2_kernel
        f.create_group("optimizer/vars")


keras3_weights(os.path.join(here, "keras3.weights.h5"))

layer = {"trainable": True, "dtype": "float32", "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
         "kernel_initializer": {"module": "keras.initializers", "class_name": "GlorotUniform", "config": {"seed": None}},
         "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros", "config": {}},
         "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None,
         "bias_constraint": None, "output_padding": None}
config = {"module": "keras", "class_name": "Sequential", "config": {"name": "sequential", "trainable": True, "layers": [
    {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 5, 4, 3], "dtype": "float32", "name": "input_layer"}},
    {"module": "keras.layers", "class_name": "Conv2DTranspose", "config": dict(layer, name="up1", filters=4, kernel_size=[3, 2], strides=[2, 2], padding="same", activation="relu", use_bias=True)},
    {"module": "keras.layers", "class_name": "Conv2DTranspose", "config": dict(layer, name="up2", filters=2, kernel_size=[3, 3], strides=[1, 1], padding="valid", activation="linear", use_bias=False)},
]}}
weights = io.BytesIO()
keras3_weights(weights)
with zipfile.ZipFile(os.path.join(here, "keras3.keras"), "w") as z:
    z.writestr("metadata.json", json.dumps({"keras_version": "3.x (layout written by make_keras_files.py)", "date_saved": "2026-11-26@00:00:00"}))
    z.writestr("config.json", json.dumps(config))
    z.writestr("model.weights.h5", weights.getvalue())

with h5py.File(os.path.join(here, "legacy.h5"), "w") as f:
    f.attrs["keras_version"] = b"2.13.1"
    f.attrs["backend"] = b"tensorflow"
    g = f.create_group("model_weights")
    g.attrs["layer_names"] = [b"up1", b"up2"]
    for name, arrays in (("up1", {"kernel:0": up1_kernel, "bias:0": up1_bias}), ("up2", {"kernel:0": up2_kernel})):
        layer_group = g.create_group(name)
        layer_group.attrs["weight_names"] = [f"{name}/{k}".encode() for k in arrays]
        for k, a in arrays.items():
            layer_group.create_dataset(f"{name}/{k}", data=a)
print("wrote keras3.weights.h5, keras3.keras, legacy.h5, keras_weights.npz")
