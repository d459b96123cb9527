#!/usr/bin/python3
"""Writes the HDF5 layout test files beside this script with Debian's python3-h5py (h5py 3.7, HDF5 1.10):
/usr/bin/python3 make_hdf5_files.py. CI regenerates nothing; the files are committed.

- hdf5_latest.h5   h5py with libver="latest" (superblock version 3, version 2 object headers, groups as link
                   messages) in Keras 3's layout, with float32 and float64 (little- and big-endian), a scalar, a
                   compact dataset, an int64 counter, a float16 dataset and a soft link, and a user block of 512
                   bytes before the superblock
- hdf5_latest.npz  numpy.savez of every float dataset, by its path with '/' as '.', as h5py reads it
- hdf5_chunked.h5  a compressed (chunked) float32 dataset: refused
- hdf5_dense.h5    libver="latest" with 20 links in one group, which HDF5 keeps in a fractal heap: refused
- hdf5_cycle.h5    a group holding two hard links to itself (h5py allows it): listing it must end, refused
"""
import os

import h5py
import numpy

here = os.path.dirname(os.path.abspath(__file__))
rng = numpy.random.default_rng(20261203)
expected = {}
with h5py.File(os.path.join(here, "hdf5_latest.h5"), "w", libver="latest", userblock_size=512) as f:
    conv = f.create_group("layers").create_group("conv2d_transpose").create_group("vars")
    kernel = rng.standard_normal((3, 2, 4, 3)).astype("<f4")
    conv.create_dataset("0", data=kernel)
    expected["layers.conv2d_transpose.vars.0"] = kernel
    bias = rng.standard_normal(4).astype(">f8")
    conv.create_dataset("1", data=bias)
    expected["layers.conv2d_transpose.vars.1"] = bias.astype("<f8")
    other = f["layers"].create_group("dense").create_group("vars")
    wide = rng.standard_normal((2, 5)).astype(">f4")
    other.create_dataset("0", data=wide)
    expected["layers.dense.vars.0"] = wide.astype("<f4")
    # A compact dataset: its data lives in its object header.
    space = h5py.h5s.create_simple((3,))
    plist = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    plist.set_layout(h5py.h5d.COMPACT)
    compact = h5py.h5d.create(other.id, b"1", h5py.h5t.IEEE_F32LE, space, plist)
    values = numpy.array([1.5, -2.25, 3.0], dtype="<f4")
    compact.write(h5py.h5s.ALL, h5py.h5s.ALL, values)
    expected["layers.dense.vars.1"] = values
    f.create_dataset("optimizer/iterations", data=numpy.int64(7))
    scalar = numpy.float32(0.001)
    f.create_dataset("optimizer/learning_rate", data=scalar)
    expected["optimizer.learning_rate"] = numpy.array([scalar])  # a scalar: .npy weights need a dimension
    f.create_dataset("optimizer/half", data=numpy.ones(3, dtype="<f2"))
    f["layers/alias"] = h5py.SoftLink("/layers/dense")
numpy.savez(os.path.join(here, "hdf5_latest.npz"), **expected)

with h5py.File(os.path.join(here, "hdf5_chunked.h5"), "w") as f:
    f.create_dataset("layers/conv2d_transpose/vars/0", data=numpy.ones((3, 3, 2, 2), dtype="<f4"), compression="gzip")

with h5py.File(os.path.join(here, "hdf5_dense.h5"), "w", libver="latest") as f:
    group = f.create_group("many")
    for i in range(20):
        group.create_dataset(str(i), data=numpy.full(2, i, dtype="<f4"))
with h5py.File(os.path.join(here, "hdf5_cycle.h5"), "w") as f:
    loop = f.create_group("model_weights/loop")
    loop.create_dataset("kernel:0", data=numpy.ones((2, 2), dtype="<f4"))
    loop["again"] = loop
    loop["and_again"] = loop
print("wrote hdf5_latest.h5, hdf5_latest.npz, hdf5_chunked.h5, hdf5_dense.h5, hdf5_cycle.h5")
