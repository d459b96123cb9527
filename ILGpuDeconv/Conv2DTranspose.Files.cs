using System;
using ILGpuDeconv.IO;

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
        LayerWeightFiles.Save(this, path);
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
    /// <exception cref="System.IO.InvalidDataException">The file is malformed, or an array is missing or has the wrong shape (the message gives both shapes).</exception>
    public void LoadWeights(string path, WeightLayout layout = WeightLayout.Keras)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        lock (registration.SyncRoot)
        {
            LayerWeightFiles.Load(this, path, layout);
        }
    }
}
