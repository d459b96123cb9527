using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ILGpuDeconv;

/// <summary>
/// A layer's weights in NumPy files (<see cref="Conv2DTranspose.SaveWeights"/>, <see cref="Conv2DTranspose.LoadWeights"/>),
/// through the layer's public weight API: Keras names and layout, or PyTorch's, converted here.
/// </summary>
internal static class LayerWeightFiles
{
    /// <summary>
    /// Writes the kernel and, with bias, the bias: as <c>numpy.savez</c> would (<c>.npz</c>), as safetensors
    /// (<c>.safetensors</c>), named <c>kernel</c>/<c>bias</c> in Keras's layout, <c>weight</c>/<c>bias</c> in PyTorch's;
    /// or as Keras 3's <c>.weights.h5</c> (Keras's layout only).
    /// </summary>
    public static void Save(Conv2DTranspose layer, string path, WeightLayout layout)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!Writes(path))
        {
            throw new ArgumentException(
                $"{path}: SaveWeights writes .npz (NumPy), .safetensors and .weights.h5 (Keras 3) files; name the file with one of those extensions (ONNX models: SaveOnnx).",
                nameof(path));
        }

        var (kernel, bias) = layer.GetWeights();
        var keras = new NumPyArray(kernel, layer.KernelShape!);
        var arrays = new List<KeyValuePair<string, NumPyArray>>
        {
            layout == WeightLayout.PyTorch ? new("weight", ToPyTorch(keras)) : new("kernel", keras),
        };
        if (bias is not null)
        {
            arrays.Add(new("bias", new NumPyArray(bias, new TensorShape(bias.Length))));
        }

        var format = FormatOf(path);
        if (format == WeightFileFormat.Keras)
        {
            if (layout != WeightLayout.Keras || !path.EndsWith(".weights.h5", StringComparison.OrdinalIgnoreCase))
            {
                throw new ArgumentException($"HDF5 weights are written as Keras 3's .weights.h5, in Keras's layout; got {path} with the {layout} layout.", nameof(path));
            }

            KerasWeightsFormat.Write(path, keras, arrays.Count > 1 ? arrays[1].Value : null);
            return;
        }

        using var file = File.Create(path);
        if (format == WeightFileFormat.SafeTensors)
        {
            SafeTensorsFormat.Write(file, arrays);
        }
        else
        {
            NumPyFormat.WriteNpz(file, arrays);
        }
    }

    /// <summary>Whether <see cref="Save"/> writes a file of this name: <c>.npz</c>, <c>.safetensors</c> or <c>.weights.h5</c>.</summary>
    internal static bool Writes(string path) =>
        path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".weights.h5", StringComparison.OrdinalIgnoreCase);

    /// <summary>The files of named tensors the layer reads, by extension.</summary>
    internal enum WeightFileFormat
    {
        Npz,
        SafeTensors,
        PyTorch,
        TensorFlowJs,
        Keras,
        Onnx,
    }

    /// <summary>Whether the path names a single NumPy array (<c>.npy</c>), read by the .npz family's reader.</summary>
    internal static bool IsNpy(string path) => path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase);

    internal static WeightFileFormat FormatOf(string path) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) ? WeightFileFormat.SafeTensors
        : path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pth", StringComparison.OrdinalIgnoreCase) ? WeightFileFormat.PyTorch
        : path.EndsWith(".json", StringComparison.OrdinalIgnoreCase) ? WeightFileFormat.TensorFlowJs
        : path.EndsWith(".h5", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".keras", StringComparison.OrdinalIgnoreCase) ? WeightFileFormat.Keras
        : path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? WeightFileFormat.Onnx
        : WeightFileFormat.Npz;

    /// <summary>Name, dtype and shape of every tensor of a file of named tensors, reading headers only.</summary>
    internal static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(WeightFileFormat format, Stream file, string path) => format switch
    {
        WeightFileFormat.SafeTensors => SafeTensorsFormat.List(file, path),
        WeightFileFormat.PyTorch => PyTorchCheckpointFormat.List(file, path),
        WeightFileFormat.TensorFlowJs => TensorFlowJsModelFormat.List(path),
        WeightFileFormat.Keras => KerasWeightsFormat.List(path),
        WeightFileFormat.Onnx => OnnxFormat.List(path),
        _ => NumPyFormat.ListNpz(file, path),
    };

    /// <summary>
    /// Reads the kernel (and bias) and sets them; see <see cref="Conv2DTranspose.LoadWeights"/> for the names looked
    /// for. Headers are read and shapes checked against the layer first; only the arrays chosen are then read,
    /// each no larger than its header says (so memory stays bounded by the weights asked for), and nothing is
    /// set unless everything was read.
    /// </summary>
    public static void Load(Conv2DTranspose layer, string path, WeightLayout layout)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ReaderGuard.Run(path, () =>
        {
            LoadUnguarded(layer, path, layout);
            return true;
        });
    }

    private static void LoadUnguarded(Conv2DTranspose layer, string path, WeightLayout layout)
    {
        if (FormatOf(path) == WeightFileFormat.Onnx)
        {
            using (var onnx = File.OpenRead(path))
            {
                FileSignature.Require(onnx, path, WeightFileFormat.Onnx, npy: false);
            }

            LoadOnnx(layer, path);
            return;
        }

        NumPyArray kernel;
        NumPyArray? bias = null;
        using (var file = File.OpenRead(path))
        {
            FileSignature.Require(file, path, FormatOf(path), IsNpy(path));
            if (IsNpy(path))
            {
                var (_, shape) = NumPyFormat.ReadNpyHeader(file, path);
                long count = CheckKernelShape(layer, shape, layout, path);
                file.Position = 0;
                kernel = NumPyFormat.ReadNpy(file, path, count);
            }
            else
            {
                var format = FormatOf(path);
                var listed = List(format, file, path).ToDictionary(a => a.Name, a => a.Shape, StringComparer.Ordinal);
                string kernelName = layout == WeightLayout.PyTorch ? "weight" : "kernel";
                string kernelEntry = Find(listed.Keys, kernelName, "arr_0", layer.Name)
                    ?? throw new InvalidDataException($"{path} has no kernel array (looked for '{kernelName}', '{layer.Name}/{kernelName}', the one name ending in '{kernelName}' and 'arr_0'; found: {string.Join(", ", listed.Keys)}).");
                string? biasEntry = BiasBeside(listed.Keys, kernelEntry, kernelName);
                if (layer.Options.UseBias && biasEntry is null)
                {
                    throw new InvalidDataException($"{path} has no bias beside its kernel '{kernelEntry}' (looked for the same name with 'bias' for '{kernelName}', or 'arr_1' beside 'arr_0'), and layer '{layer.Name}' uses a bias.");
                }

                if (!layer.Options.UseBias && biasEntry is not null)
                {
                    throw new InvalidDataException($"{path} holds a bias ('{biasEntry}'), but layer '{layer.Name}' has use_bias=False.");
                }

                long count = CheckKernelShape(layer, listed[kernelEntry], layout, $"{path}:{kernelEntry}");
                if (biasEntry is not null && (listed[biasEntry].Length != 1 || listed[biasEntry][0] != layer.Options.Filters))
                {
                    throw new InvalidDataException(
                        $"{path}:{biasEntry}: the bias has shape [{string.Join(", ", listed[biasEntry])}]; layer '{layer.Name}' needs [{layer.Options.Filters}].");
                }

                file.Position = 0;
                bool Include(string name) => name == kernelEntry || name == biasEntry;
                long most = Math.Max(count, layer.Options.Filters);
                var arrays = format switch
                {
                    WeightFileFormat.SafeTensors => SafeTensorsFormat.Read(file, path, Include, most),
                    WeightFileFormat.PyTorch => PyTorchCheckpointFormat.Read(file, path, Include, most),
                    WeightFileFormat.TensorFlowJs => TensorFlowJsModelFormat.Read(path, Include, most),
                    WeightFileFormat.Keras => KerasWeightsFormat.Read(path, Include, most),
                    _ => NumPyFormat.ReadNpz(file, path, Include, most),
                };
                kernel = arrays[kernelEntry];
                bias = biasEntry is null ? null : arrays[biasEntry];
            }
        }

        var keras = ToKeras(kernel, layout);
        if (bias is null && layer.Options.UseBias)
        {
            // An .npy holds the kernel only: keep the current bias, building the layer first (with its bias
            // initializer) when needed. The caller holds the layer's lock.
            layer.Build(keras.Shape[3]);
            layer.SetWeights(keras.Values, layer.GetWeights().Bias!);
            return;
        }

        layer.SetWeights(keras.Values, bias?.Values ?? ReadOnlySpan<float>.Empty);
    }

    /// <summary>The ConvTranspose node named <paramref name="name"/>, or the model's only one.</summary>
    internal static OnnxConvTranspose OnnxNode(string path, string? name)
    {
        var nodes = OnnxFormat.ConvTransposeNodes(path);
        var chosen = name is not null ? nodes.FirstOrDefault(n => n.Name == name) : nodes.Count == 1 ? nodes[0] : null;
        return chosen ?? throw new InvalidDataException(
            $"{path} has {(nodes.Count == 0 ? "no ConvTranspose node" : $"{nodes.Count} ConvTranspose nodes ({string.Join(", ", nodes.Select(n => n.Name))})")}"
            + (name is null ? (nodes.Count > 1 ? "; name one" : string.Empty) : $", none named '{name}'") + ".");
    }

    /// <summary>The W and B initializers of the layer's ConvTranspose node (named as the layer, or the only one), in ONNX's (PyTorch's) layout.</summary>
    private static void LoadOnnx(Conv2DTranspose layer, string path)
    {
        var nodes = OnnxFormat.ConvTransposeNodes(path);
        var node = nodes.FirstOrDefault(n => n.Name == layer.Name) ?? OnnxNode(path, null);
        var initializers = OnnxFormat.List(path).ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
        if (!initializers.TryGetValue(node.Weight, out var w))
        {
            throw new InvalidDataException($"{path}: the weights W ('{node.Weight}') of ConvTranspose node '{node.Name}' are a graph input, not an initializer: the model holds no values for them.");
        }

        // A 1-D node's W [C, F/g, k] is a layer of height 1's [C, F/g, 1, k].
        int[] shape = w.Length == 3 ? [w[0], w[1], 1, w[2]] : w;
        long count = CheckKernelShape(layer, shape, WeightLayout.PyTorch, $"{path}: W '{node.Weight}' of node '{node.Name}'");
        if (layer.Options.UseBias != (node.Bias is not null))
        {
            throw new InvalidDataException($"{path}: ConvTranspose node '{node.Name}' {(node.Bias is null ? "has no bias B" : $"has a bias B ('{node.Bias}')")}, and layer '{layer.Name}' has use_bias={layer.Options.UseBias}.");
        }

        if (node.Bias is not null && (!initializers.TryGetValue(node.Bias, out var b) || b.Length != 1 || b[0] != layer.Options.Filters))
        {
            throw new InvalidDataException($"{path}: the bias B ('{node.Bias}') of node '{node.Name}' is not an initializer of shape [{layer.Options.Filters}].");
        }

        var arrays = OnnxFormat.Read(path, n => n == node.Weight || n == node.Bias, Math.Max(count, layer.Options.Filters));
        var keras = ToKeras(new NumPyArray(arrays[node.Weight].Values, new TensorShape(shape)), WeightLayout.PyTorch);
        layer.SetWeights(keras.Values, node.Bias is null ? ReadOnlySpan<float>.Empty : arrays[node.Bias].Values);
    }

    /// <summary>
    /// The bias of the same layer as the kernel entry: its name with <c>bias</c> for the kernel's name
    /// (<c>up1/kernel</c> to <c>up1/bias</c>, <c>0.weight</c> to <c>0.bias</c>, <c>kernel:0</c> to <c>bias:0</c>), or
    /// <c>arr_1</c> beside <c>arr_0</c>; never another layer's.
    /// </summary>
    private static string? BiasBeside(IEnumerable<string> names, string kernelEntry, string kernelName)
    {
        var all = names.ToHashSet(StringComparer.Ordinal);
        if (kernelEntry == "arr_0")
        {
            return all.Contains("arr_1") ? "arr_1" : null;
        }

        foreach (string suffix in new[] { kernelName + ":0", kernelName })
        {
            if (kernelEntry.EndsWith(suffix, StringComparison.Ordinal))
            {
                string bias = kernelEntry[..^suffix.Length] + suffix.Replace(kernelName, "bias", StringComparison.Ordinal);
                return all.Contains(bias) ? bias : null;
            }
        }

        return null;
    }

    /// <summary>
    /// The entry named exactly, else the layer's own (<c>LAYER/kernel</c>, <c>LAYER.weight</c>), else the one name
    /// ending so (<c>deconv.weight</c>, <c>kernel:0</c>), else the positional one.
    /// </summary>
    private static string? Find(IEnumerable<string> names, string name, string positional, string layerName)
    {
        var all = names.ToList();
        if (all.Contains(name))
        {
            return name;
        }

        bool Own(string n) => n == $"{layerName}.{name}" || n.EndsWith($".{layerName}.{name}", StringComparison.Ordinal)
            || new[] { $"{layerName}/{name}", $"{layerName}/{name}:0" }.Any(own => n == own || n.EndsWith("/" + own, StringComparison.Ordinal));
        var owned = all.Where(Own).ToList();
        if (owned.Count == 1)
        {
            return owned[0];
        }

        var suffixed = all.Where(n => n.EndsWith(name, StringComparison.Ordinal) || n.EndsWith(name + ":0", StringComparison.Ordinal)).ToList();
        if (suffixed.Count == 1)
        {
            return suffixed[0];
        }

        return all.Contains(positional) ? positional : null;
    }

    /// <summary>Checks a kernel's shape against the layer (before its data is read); returns its element count.</summary>
    private static long CheckKernelShape(Conv2DTranspose layer, int[] s, WeightLayout layout, string source)
    {
        int kh = layer.Options.KernelSize.Height, kw = layer.Options.KernelSize.Width, f = layer.Options.Filters / layer.Options.Groups;
        int? channels = layer.InputChannels;
        string expected = layout == WeightLayout.Keras
            ? $"[{kh}, {kw}, {f}, {channels?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "in_channels"}]"
            : $"[{channels?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "in_channels"}, {f}, {kh}, {kw}]";
        bool fits = s.Length == 4 && (layout == WeightLayout.Keras
            ? s[0] == kh && s[1] == kw && s[2] == f && (channels is null || s[3] == channels)
            : s[2] == kh && s[3] == kw && s[1] == f && (channels is null || s[0] == channels));
        if (!fits)
        {
            throw new InvalidDataException($"{source}: the kernel has shape [{string.Join(", ", s)}]; layer '{layer.Name}' needs {expected} ({layout} layout).");
        }

        long count = (long)s[0] * s[1] * s[2] * s[3];
        if (count > NumPyFormat.DefaultMaxElements)
        {
            throw new InvalidDataException(
                $"{source}: the kernel has shape [{string.Join(", ", s)}], {count} elements, more than the {NumPyFormat.DefaultMaxElements} a load accepts.");
        }

        return count;
    }

    /// <summary>A Keras-layout kernel <c>[kh, kw, filters, in]</c> in PyTorch's layout <c>[in, filters, kh, kw]</c> (the same taps, no flip).</summary>
    private static NumPyArray ToPyTorch(NumPyArray keras)
    {
        var s = keras.Shape;
        int kh = s[0], kw = s[1], f = s[2], c = s[3];
        return new NumPyArray(Transpose(keras.Values, kh, kw, f, c, toPyTorch: true), new TensorShape(c, f, kh, kw));
    }

    /// <summary>A kernel in Keras's layout: as it is, or permuted from PyTorch's <c>[in, filters, kh, kw]</c>.</summary>
    private static NumPyArray ToKeras(NumPyArray kernel, WeightLayout layout)
    {
        if (layout == WeightLayout.Keras)
        {
            return kernel;
        }

        var s = kernel.Shape;
        int c = s[0], f = s[1], kh = s[2], kw = s[3];
        return new NumPyArray(Transpose(kernel.Values, kh, kw, f, c, toPyTorch: false), new TensorShape(kh, kw, f, c));
    }

    /// <summary>Moves every tap between Keras's <c>[kh, kw, f, c]</c> and PyTorch's <c>[c, f, kh, kw]</c> index order.</summary>
    private static float[] Transpose(float[] source, int kh, int kw, int f, int c, bool toPyTorch)
    {
        var values = new float[source.Length];
        for (int ci = 0; ci < c; ci++)
        {
            for (int fi = 0; fi < f; fi++)
            {
                for (int a = 0; a < kh; a++)
                {
                    for (int b = 0; b < kw; b++)
                    {
                        int keras = (((((a * kw) + b) * f) + fi) * c) + ci;
                        int torch = (((((ci * f) + fi) * kh) + a) * kw) + b;
                        values[toPyTorch ? torch : keras] = source[toPyTorch ? keras : torch];
                    }
                }
            }
        }

        return values;
    }
}
