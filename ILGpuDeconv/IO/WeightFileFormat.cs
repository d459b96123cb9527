namespace ILGpuDeconv;

/// <summary>
/// The weight-file formats the library reads (and, for <see cref="Npz"/>, <see cref="SafeTensors"/> and
/// <see cref="Keras"/>, writes). A path's extension selects one; a stream's bytes tell theirs.
/// </summary>
public enum WeightFileFormat
{
    /// <summary>NumPy's <c>.npz</c> (<c>numpy.savez</c>), or one array as <c>.npy</c>.</summary>
    Npz,

    /// <summary>Hugging Face's <c>.safetensors</c>.</summary>
    SafeTensors,

    /// <summary>PyTorch's <c>.pt</c>/<c>.pth</c> (<c>torch.save</c> of a state_dict; read only).</summary>
    PyTorch,

    /// <summary>A TF.js layers model's <c>model.json</c> and its weight shards (read only, by path).</summary>
    TensorFlowJs,

    /// <summary>Keras's HDF5 files: Keras 3's <c>.weights.h5</c> (written too), the <c>.keras</c> archive and legacy <c>.h5</c>.</summary>
    Keras,

    /// <summary>An ONNX model's initializers (<c>.onnx</c>; read here, written by <see cref="Conv2DTranspose.SaveOnnx(string, TensorShape)"/>).</summary>
    Onnx,
}
