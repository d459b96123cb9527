using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using ILGpuDeconv.IO;
using ILGpuDeconv.Tensors;

namespace ILGpuDeconv;

/// <content>Weights in NumPy files, so weights trained in TensorFlow, Keras or PyTorch load directly.</content>
public sealed partial class Conv2DTranspose
{
    /// <summary>
    /// Saves the weights as <c>.npz</c> with the arrays <c>kernel</c> (<c>[kh, kw, filters, in_channels]</c>)
    /// and, with bias, <c>bias</c>, as <c>numpy.savez(path, kernel=..., bias=...)</c> would.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public void SaveWeights(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var (kernel, bias) = GetWeights();
        var arrays = new List<KeyValuePair<string, NumPyArray>> { new("kernel", new NumPyArray(kernel, KernelShape!)) };
        if (bias is not null)
        {
            arrays.Add(new("bias", new NumPyArray(bias, new TensorShape(bias.Length))));
        }

        using var file = File.Create(path);
        NumPyFormat.WriteNpz(file, arrays);
    }

    /// <summary>
    /// Loads weights from NumPy files: an <c>.npz</c> with the kernel and (for a layer with bias) the bias,
    /// or an <c>.npy</c> with the kernel alone (the bias is left as it is). In an <c>.npz</c> the kernel is the
    /// array named <c>kernel</c> (Keras) or <c>weight</c> (PyTorch) — or the one name ending so, like
    /// <c>deconv.weight</c> — else <c>arr_0</c>; the bias is <c>bias</c>, the one name ending in <c>bias</c>, else
    /// <c>arr_1</c> (<c>numpy.savez</c>'s names for <c>get_weights()</c>'s order).
    /// </summary>
    /// <param name="path">An <c>.npz</c> or <c>.npy</c> file.</param>
    /// <param name="layout">The kernel's layout in the file: Keras <c>[kh, kw, filters, in_channels]</c> or PyTorch <c>[in_channels, filters, kh, kw]</c>.</param>
    /// <exception cref="InvalidDataException">The file is malformed, or an array is missing or has the wrong shape (the message gives both shapes).</exception>
    public void LoadWeights(string path, WeightLayout layout = WeightLayout.Keras)
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
                if (Options.UseBias && bias is null)
                {
                    throw new InvalidDataException($"{path} has no bias array (looked for 'bias', '*bias' and 'arr_1'), and layer '{Name}' uses a bias.");
                }

                if (!Options.UseBias && bias is not null)
                {
                    throw new InvalidDataException($"{path} holds a bias, but layer '{Name}' has use_bias=False.");
                }
            }
        }

        var keras = ToKerasKernel(kernel, layout, path);
        if (bias is not null && (bias.Shape.Rank != 1 || bias.Shape[0] != Options.Filters))
        {
            throw new InvalidDataException($"{path}: the bias has shape {bias.Shape}; layer '{Name}' needs [{Options.Filters}].");
        }

        if (bias is null && Options.UseBias)
        {
            // An .npy holds the kernel only: keep the current bias.
            lock (registration.SyncRoot)
            {
                var current = CurrentWeights is { } w ? Download(w.Bias.View, w.BiasShape.ElementCount) : new float[Options.Filters];
                SetWeights(keras.Values, current);
            }

            return;
        }

        SetWeights(keras.Values, bias?.Values ?? ReadOnlySpan<float>.Empty);
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
    private NumPyArray ToKerasKernel(NumPyArray kernel, WeightLayout layout, string path)
    {
        int kh = Options.KernelSize.Height, kw = Options.KernelSize.Width, f = Options.Filters;
        int? channels = InputChannels;
        var s = kernel.Shape;
        string expected = layout == WeightLayout.Keras
            ? $"[{kh}, {kw}, {f}, {channels?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "in_channels"}]"
            : $"[{channels?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "in_channels"}, {f}, {kh}, {kw}]";
        bool fits = s.Rank == 4 && (layout == WeightLayout.Keras
            ? s[0] == kh && s[1] == kw && s[2] == f && (channels is null || s[3] == channels)
            : s[2] == kh && s[3] == kw && s[1] == f && (channels is null || s[0] == channels));
        if (!fits)
        {
            throw new InvalidDataException($"{path}: the kernel has shape {s}; layer '{Name}' needs {expected} ({layout} layout).");
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
