using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ILGpuDeconv;

/// <summary>What the weight files the layer reads hold, without reading their data.</summary>
public static class WeightFiles
{
    /// <summary>
    /// Lists the tensors of a weight file by its extension: <c>.npz</c>, <c>.npy</c>, <c>.safetensors</c>, or
    /// <c>.pt</c>/<c>.pth</c> (a PyTorch state_dict), a TF.js layers model's <c>model.json</c>, Keras's <c>.weights.h5</c>,
    /// <c>.keras</c> and legacy <c>.h5</c>, or an ONNX model's initializers (<c>.onnx</c>); reads headers only.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>Name (for <c>.npy</c>, the file's name), dtype and shape of each tensor, in the file's order.</returns>
    /// <exception cref="InvalidDataException">The file is malformed, or its bytes are another format than its name says (the message says which, and what reads it); the message names it.</exception>
    public static IReadOnlyList<WeightFileTensor> List(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return ReaderGuard.Run(path, () => ListUnguarded(path));
    }

    private static IReadOnlyList<WeightFileTensor> ListUnguarded(string path)
    {
        using var file = File.OpenRead(path);
        FileSignature.Require(file, path, LayerWeightFiles.FormatOf(path), LayerWeightFiles.IsNpy(path));
        if (LayerWeightFiles.IsNpy(path))
        {
            var (dtype, shape) = NumPyFormat.ReadNpyHeader(file, path);
            return [new WeightFileTensor(Path.GetFileNameWithoutExtension(path), dtype, shape)];
        }

        return [.. LayerWeightFiles.List(LayerWeightFiles.FormatOf(path), file, path).Select(t => new WeightFileTensor(t.Name, t.Dtype, t.Shape))];
    }
}

/// <summary>One tensor of a weight file.</summary>
/// <param name="Name">Its name in the file.</param>
/// <param name="Dtype">Its element type as the file names it (<c>&lt;f4</c>, <c>F32</c>, <c>float32</c>, ...).</param>
/// <param name="Shape">Its shape.</param>
public sealed record WeightFileTensor(string Name, string Dtype, IReadOnlyList<int> Shape)
{
    /// <summary>Formats the tensor as <c>name  dtype  [d0, d1, ...]</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Name}  {Dtype}  [{string.Join(", ", Shape)}]";
}
