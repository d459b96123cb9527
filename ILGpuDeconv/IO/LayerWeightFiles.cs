using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ILGpuDeconv.Tensors;

namespace ILGpuDeconv.IO;

/// <summary>
/// A layer's weights in NumPy files (<see cref="Conv2DTranspose.SaveWeights"/>, <see cref="Conv2DTranspose.LoadWeights"/>),
/// through the layer's public weight API: Keras names and layout, or PyTorch's, converted here.
/// </summary>
internal static class LayerWeightFiles
{
    /// <summary>Writes <c>kernel</c> and, with bias, <c>bias</c> as <c>numpy.savez</c> would.</summary>
    public static void Save(Conv2DTranspose layer, string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (kernel, bias) = layer.GetWeights();
        var arrays = new List<KeyValuePair<string, NumPyArray>> { new("kernel", new NumPyArray(kernel, layer.KernelShape!)) };
        if (bias is not null)
        {
            arrays.Add(new("bias", new NumPyArray(bias, new TensorShape(bias.Length))));
        }

        using var file = File.Create(path);
        NumPyFormat.WriteNpz(file, arrays);
    }

    /// <summary>Reads the kernel (and bias) and sets them; see <see cref="Conv2DTranspose.LoadWeights"/> for the names looked for.</summary>
    public static void Load(Conv2DTranspose layer, string path, WeightLayout layout)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        NumPyArray kernel;
        NumPyArray? bias = null;
        using (var file = File.OpenRead(path))
        {
            if (path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase))
            {
                kernel = NumPyFormat.ReadNpy(file, path);
            }
            else
            {
                var arrays = NumPyFormat.ReadNpz(file, path);
                string kernelName = layout == WeightLayout.PyTorch ? "weight" : "kernel";
                kernel = Find(arrays, kernelName, "arr_0")
                    ?? throw new InvalidDataException($"{path} has no kernel array (looked for '{kernelName}', '*{kernelName}' and 'arr_0'; found: {string.Join(", ", arrays.Keys)}).");
                bias = Find(arrays, "bias", "arr_1");
                if (layer.Options.UseBias && bias is null)
                {
                    throw new InvalidDataException($"{path} has no bias array (looked for 'bias', '*bias' and 'arr_1'), and layer '{layer.Name}' uses a bias.");
                }

                if (!layer.Options.UseBias && bias is not null)
                {
                    throw new InvalidDataException($"{path} holds a bias, but layer '{layer.Name}' has use_bias=False.");
                }
            }
        }

        var keras = ToKerasKernel(layer, kernel, layout, path);
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != layer.Options.Filters))
        {
            throw new InvalidDataException($"{path}: the bias has shape {bias.Shape}; layer '{layer.Name}' needs [{layer.Options.Filters}].");
        }

        if (bias is null && layer.Options.UseBias)
        {
            // An .npy holds the kernel only: keep the current bias (the caller holds the layer's lock).
            var current = layer.IsBuilt ? layer.GetWeights().Bias! : new float[layer.Options.Filters];
            layer.SetWeights(keras.Values, current);

            return;
        }

        layer.SetWeights(keras.Values, bias?.Values ?? ReadOnlySpan<float>.Empty);
    }

    private static NumPyArray? Find(IReadOnlyDictionary<string, NumPyArray> arrays, string name, string positional)
    {
        if (arrays.TryGetValue(name, out var exact))
        {
            return exact;
        }

        var suffixed = arrays.Where(a => a.Key.EndsWith(name, StringComparison.Ordinal) || a.Key.EndsWith(name + ":0", StringComparison.Ordinal)).ToList();
        if (suffixed.Count == 1)
        {
            return suffixed[0].Value;
        }

        return arrays.TryGetValue(positional, out var byPosition) ? byPosition : null;
    }

    /// <summary>Checks the kernel's shape against the layer and converts a PyTorch kernel to Keras's layout.</summary>
    private static NumPyArray ToKerasKernel(Conv2DTranspose layer, NumPyArray kernel, WeightLayout layout, string path)
    {
        int kh = layer.Options.KernelSize.Height, kw = layer.Options.KernelSize.Width, f = layer.Options.Filters;
        int? channels = layer.InputChannels;
        var s = kernel.Shape;
        string expected = layout == WeightLayout.Keras
            ? $"[{kh}, {kw}, {f}, {channels?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "in_channels"}]"
            : $"[{channels?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "in_channels"}, {f}, {kh}, {kw}]";
        bool fits = s.Rank == 4 && (layout == WeightLayout.Keras
            ? s[0] == kh && s[1] == kw && s[2] == f && (channels is null || s[3] == channels)
            : s[2] == kh && s[3] == kw && s[1] == f && (channels is null || s[0] == channels));
        if (!fits)
        {
            throw new InvalidDataException($"{path}: the kernel has shape {s}; layer '{layer.Name}' needs {expected} ({layout} layout).");
        }

        if (layout == WeightLayout.Keras)
        {
            return kernel;
        }

        int c = s[0];
        var values = new float[kernel.Values.Length];
        for (int ci = 0; ci < c; ci++)
        {
            for (int fi = 0; fi < f; fi++)
            {
                for (int a = 0; a < kh; a++)
                {
                    for (int b = 0; b < kw; b++)
                    {
                        values[(((((a * kw) + b) * f) + fi) * c) + ci] = kernel.Values[(((((ci * f) + fi) * kh) + a) * kw) + b];
                    }
                }
            }
        }

        return new NumPyArray(values, new TensorShape(kh, kw, f, c));
    }
}
