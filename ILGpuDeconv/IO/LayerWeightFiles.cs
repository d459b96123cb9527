using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;

namespace ILGpuDeconv;

/// <summary>
/// A layer's weights in NumPy files (<see cref="Conv2DTranspose.SaveWeights(string, WeightLayout)"/>, <see cref="Conv2DTranspose.LoadWeights(string, WeightLayout)"/>),
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

        var format = FormatOf(path);
        var arrays = Arrays(layer, format, layout, nameof(path));
        if (format == WeightFileFormat.Keras)
        {
            KerasWeightsFormat.Write(path, arrays[0].Value, arrays.Count > 1 ? arrays[1].Value : null);
            return;
        }

        using var file = File.Create(path);
        Write(file, format, arrays);
    }

    /// <summary>Writes the kernel and bias to a stream in <paramref name="format"/> (.npz, safetensors or Keras 3's .weights.h5), as <see cref="Save(Conv2DTranspose, string, WeightLayout)"/>.</summary>
    public static void Save(Conv2DTranspose layer, Stream stream, WeightFileFormat format, WeightLayout layout)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (format is not (WeightFileFormat.Npz or WeightFileFormat.SafeTensors or WeightFileFormat.Keras))
        {
            throw new ArgumentException($"SaveWeights writes the formats Npz, SafeTensors and Keras (.weights.h5); got {format} (ONNX models: SaveOnnx).", nameof(format));
        }

        var arrays = Arrays(layer, format, layout, nameof(layout));
        var buffer = new MemoryStream(); // nothing reaches the stream unless the whole file could be made
        if (format == WeightFileFormat.Keras)
        {
            KerasWeightsFormat.Write(buffer, arrays[0].Value, arrays.Count > 1 ? arrays[1].Value : null);
        }
        else
        {
            Write(buffer, format, arrays);
        }

        buffer.Position = 0;
        buffer.CopyTo(stream);
    }

    /// <summary>The layer's kernel (named and laid out as <paramref name="layout"/> says) and bias, to write.</summary>
    private static List<KeyValuePair<string, NumPyArray>> Arrays(Conv2DTranspose layer, WeightFileFormat format, WeightLayout layout, string argumentName)
    {
        if (format == WeightFileFormat.Keras && layout != WeightLayout.Keras)
        {
            throw new ArgumentException($"HDF5 weights are written as Keras 3's .weights.h5, in Keras's layout; got the {layout} layout.", argumentName);
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

        return arrays;
    }

    private static void Write(Stream stream, WeightFileFormat format, List<KeyValuePair<string, NumPyArray>> arrays)
    {
        if (format == WeightFileFormat.SafeTensors)
        {
            SafeTensorsFormat.Write(stream, arrays);
        }
        else
        {
            NumPyFormat.WriteNpz(stream, arrays);
        }
    }

    /// <summary>Whether <see cref="Save(Conv2DTranspose, string, WeightLayout)"/> writes a file of this name: <c>.npz</c>, <c>.safetensors</c> or <c>.weights.h5</c>.</summary>
    internal static bool Writes(string path) =>
        path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".weights.h5", StringComparison.OrdinalIgnoreCase);

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
    internal static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(WeightFileFormat format, Stream file, string path) =>
        List(new Source(file, path, format, IsNpy(path), KerasWeightsFormat.IsArchive(path), FromFile: true));

    private static IReadOnlyList<(string Name, string Dtype, int[] Shape)> List(Source source) => source.Format switch
    {
        WeightFileFormat.SafeTensors => SafeTensorsFormat.List(source.Stream, source.Name),
        WeightFileFormat.PyTorch => PyTorchCheckpointFormat.List(source.Stream, source.Name),
        WeightFileFormat.TensorFlowJs => TensorFlowJsModelFormat.List(source.Name),
        WeightFileFormat.Keras => KerasWeightsFormat.List(source.Stream, source.Name, source.KerasArchive),
        WeightFileFormat.Onnx => OnnxFormat.List(OnnxFormat.ReadModel(source.Stream, source.Name), source.Name),
        _ => NumPyFormat.ListNpz(source.Stream, source.Name),
    };

    /// <summary>
    /// Reads the kernel (and bias) and sets them; see <see cref="Conv2DTranspose.LoadWeights(string, WeightLayout)"/> for the names looked
    /// for. Headers are read and shapes checked against the layer first; only the arrays chosen are then read,
    /// each no larger than its header says (so memory stays bounded by the weights asked for), and nothing is
    /// set unless everything was read.
    /// </summary>
    public static void Load(Conv2DTranspose layer, string path, WeightLayout layout)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ReaderGuard.Run(path, () =>
        {
            using var file = File.OpenRead(path);
            var format = FormatOf(path);
            FileSignature.Require(file, path, format, IsNpy(path));
            LoadFrom(layer, new Source(file, path, format, IsNpy(path), KerasWeightsFormat.IsArchive(path), FromFile: true), layout);
            return true;
        });
    }

    /// <summary>
    /// Reads the kernel (and bias) from a stream, its format told by its bytes (<see cref="FileSignature"/>): as
    /// <see cref="Load(Conv2DTranspose, string, WeightLayout)"/>, with the same bounds; a stream that cannot seek is
    /// copied into memory first, up to <see cref="OnnxFormat.MaxModelBytes"/>. A TF.js model (its weights in shard
    /// files beside model.json) and ONNX external data need their files: those load by path.
    /// </summary>
    public static void Load(Conv2DTranspose layer, Stream stream, WeightLayout layout)
    {
        ArgumentNullException.ThrowIfNull(stream);
        string name = stream is FileStream f ? f.Name : "the stream";
        using var seekable = ReaderGuard.Run(name, () => Seekable(stream, name));
        long start = seekable.Position;
        var kind = FileSignature.Detect(seekable);
        seekable.Position = start;
        var format = kind switch
        {
            FileSignature.Kind.Json => throw new NotSupportedException(
                $"{name} is JSON: a TF.js model's weights are in shard files beside its model.json, so LoadWeights reads it by path."),
            FileSignature.Kind.Unknown or FileSignature.Kind.OtherZip => throw new InvalidDataException(
                $"{name}: its bytes are none of the formats LoadWeights reads (NumPy .npy/.npz, safetensors, PyTorch, Keras HDF5 or .keras, ONNX)."),
            _ => FileSignature.FormatOf(kind)!.Value,
        };
        var source = new Source(seekable, name, format, kind == FileSignature.Kind.Npy, kind == FileSignature.Kind.KerasArchive, FromFile: false);
        ReaderGuard.Run(name, () =>
        {
            LoadFrom(layer, source, layout);
            return true;
        });
    }

    /// <summary>The caller's stream where it can seek (left open: a view that does not close it), else its bytes copied into memory, bounded.</summary>
    private static Stream Seekable(Stream stream, string name) => stream.CanSeek ? new NonClosingStream(stream) : InMemory(stream, name);

    /// <summary>The rest of a stream's bytes in memory, at most <see cref="OnnxFormat.MaxModelBytes"/> (more is refused as it arrives).</summary>
    internal static MemoryStream InMemory(Stream stream, string name) =>
        NonClosingStream.CopyBounded(stream, OnnxFormat.MaxModelBytes, () => new InvalidDataException(
            $"{name}: more than {OnnxFormat.MaxModelBytes} bytes, the most a weight stream is read into memory."));

    /// <summary>A weight file's bytes and what they are: its name for messages, its format, and whether it can reach files beside it.</summary>
    private sealed record Source(Stream Stream, string Name, WeightFileFormat Format, bool Npy, bool KerasArchive, bool FromFile);

    private static void LoadFrom(Conv2DTranspose layer, Source source, WeightLayout layout)
    {
        if (source.Format == WeightFileFormat.Onnx)
        {
            LoadOnnx(layer, source);
            return;
        }

        var file = source.Stream;
        string path = source.Name;
        long start = file.Position;
        NumPyArray kernel;
        NumPyArray? bias = null;
        if (source.Npy)
        {
            var (_, shape) = NumPyFormat.ReadNpyHeader(file, path);
            long count = CheckKernelShape(layer, shape, layout, path);
            file.Position = start;
            kernel = NumPyFormat.ReadNpy(file, path, count);
        }
        else
        {
            var format = source.Format;
            var listed = List(source).ToDictionary(a => a.Name, a => a.Shape, StringComparer.Ordinal);
            string kernelName = layout == WeightLayout.PyTorch ? "weight" : "kernel";
            string kernelEntry = Find(listed.Keys, kernelName, "arr_0", layer.Name)
                ?? throw new InvalidDataException($"{path} has no kernel array (looked for '{kernelName}', '{layer.Name}/{kernelName}', the one name ending in '{kernelName}' and 'arr_0'; found: {(listed.Count == 0 ? "no tensors at all" : string.Join(", ", listed.Keys))}).");
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

            file.Position = start;
            bool Include(string name) => name == kernelEntry || name == biasEntry;
            long most = Math.Max(count, layer.Options.Filters);
            var arrays = format switch
            {
                WeightFileFormat.SafeTensors => SafeTensorsFormat.Read(file, path, Include, most),
                WeightFileFormat.PyTorch => PyTorchCheckpointFormat.Read(file, path, Include, most),
                WeightFileFormat.TensorFlowJs => TensorFlowJsModelFormat.Read(path, Include, most),
                WeightFileFormat.Keras => KerasWeightsFormat.Read(file, path, source.KerasArchive, Include, most),
                _ => NumPyFormat.ReadNpz(file, path, Include, most),
            };
            kernel = arrays[kernelEntry];
            bias = biasEntry is null ? null : arrays[biasEntry];
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
    internal static OnnxConvTranspose OnnxNode(string path, string? name) => OnnxNode(OnnxFormat.ConvTransposeNodes(path), path, name);

    /// <summary>The node named <paramref name="name"/> among a model's ConvTranspose nodes, or its only one.</summary>
    internal static OnnxConvTranspose OnnxNode(IReadOnlyList<OnnxConvTranspose> nodes, string path, string? name)
    {
        var chosen = name is not null ? nodes.FirstOrDefault(n => n.Name == name) : nodes.Count == 1 ? nodes[0] : null;
        return chosen ?? throw new InvalidDataException(
            $"{path} has {(nodes.Count == 0 ? "no ConvTranspose node" : $"{nodes.Count} ConvTranspose nodes ({string.Join(", ", nodes.Select(n => n.Name))})")}"
            + (name is null ? (nodes.Count > 1 ? "; name one" : string.Empty) : $", none named '{name}'") + ".");
    }

    /// <summary>The W and B initializers of the layer's ConvTranspose node (named as the layer, or the only one), in ONNX's (PyTorch's) layout; the model parsed once.</summary>
    private static void LoadOnnx(Conv2DTranspose layer, Source source)
    {
        string path = source.Name;
        var model = OnnxFormat.ReadModel(source.Stream, path);
        var nodes = OnnxFormat.ConvTransposeNodes(model, path);
        var node = nodes.FirstOrDefault(n => n.Name == layer.Name) ?? OnnxNode(nodes, path, null);
        var initializers = OnnxFormat.List(model, path).ToDictionary(t => t.Name, t => t.Shape, StringComparer.Ordinal);
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

        string? folder = source.FromFile ? Path.GetDirectoryName(Path.GetFullPath(path)) : null;
        var arrays = OnnxFormat.Read(model, path, folder, n => n == node.Weight || n == node.Bias, Math.Max(count, layer.Options.Filters));
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
