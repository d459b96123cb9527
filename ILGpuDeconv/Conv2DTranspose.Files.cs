using System;
using System.IO;
using System.Linq;

namespace ILGpuDeconv;

/// <content>Weights in NumPy, safetensors, PyTorch, Keras HDF5 and TF.js files, so weights trained in TensorFlow, Keras or PyTorch load directly.</content>
public sealed partial class Conv2DTranspose
{
    /// <summary>
    /// Saves the weights: as <c>.npz</c> (as <c>numpy.savez(path, kernel=..., bias=...)</c> would), or as
    /// safetensors when the path ends in <c>.safetensors</c> (float32, loadable with
    /// <c>safetensors.torch.load_file</c>), or as Keras 3's <c>.weights.h5</c> (<c>layers/conv2d_transpose/vars/0</c>
    /// and <c>/1</c>, Keras's layout only). In Keras's layout the arrays are <c>kernel</c>
    /// (<c>[kh, kw, filters, in_channels]</c>) and <c>bias</c>; in PyTorch's, <c>weight</c>
    /// (<c>ConvTranspose2d.weight</c>, <c>[in_channels, filters, kh, kw]</c>) and <c>bias</c>.
    /// </summary>
    /// <param name="path">The file to write.</param>
    /// <param name="layout">The names and kernel layout to write.</param>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    /// <exception cref="ArgumentException">The path's extension is none of <c>.npz</c>, <c>.safetensors</c> and <c>.weights.h5</c>, or a <c>.weights.h5</c> is asked for in PyTorch's layout.</exception>
    public void SaveWeights(string path, WeightLayout layout = WeightLayout.Keras)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        LayerWeightFiles.Save(this, path, layout);
    }

    /// <summary>
    /// Saves the weights to a stream (a blob, a response, memory) in <paramref name="format"/>: <see cref="WeightFileFormat.Npz"/>,
    /// <see cref="WeightFileFormat.SafeTensors"/> or <see cref="WeightFileFormat.Keras"/> (Keras 3's <c>.weights.h5</c>), as
    /// <see cref="SaveWeights(string, WeightLayout)"/> writes them to files. Nothing reaches the stream unless the whole file
    /// could be made; the stream is left open.
    /// </summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="format">The format.</param>
    /// <param name="layout">The names and kernel layout to write.</param>
    /// <exception cref="ArgumentException">A format the library does not write, or Keras's in PyTorch's layout.</exception>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public void SaveWeights(Stream stream, WeightFileFormat format, WeightLayout layout = WeightLayout.Keras)
    {
        ArgumentNullException.ThrowIfNull(stream);
        LayerWeightFiles.Save(this, stream, format, layout);
    }

    /// <summary>
    /// Loads weights from a stream (an embedded resource, a blob, a download), its format told by its bytes: NumPy
    /// <c>.npy</c>/<c>.npz</c>, safetensors, a PyTorch state_dict, Keras HDF5 or <c>.keras</c>, an ONNX model; the names
    /// looked for, the bounds and the exceptions are those of <see cref="LoadWeights(string, WeightLayout)"/>. A stream
    /// that cannot seek is read into memory first (at most 2 GiB); the stream is left open. A TF.js model and ONNX
    /// external data live in files beside the model: load those by path.
    /// </summary>
    /// <param name="stream">The weights.</param>
    /// <param name="layout">The kernel's layout in the stream: Keras or PyTorch.</param>
    /// <exception cref="System.IO.InvalidDataException">The bytes are malformed, none of the formats, or an array is missing or has the wrong shape.</exception>
    /// <exception cref="NotSupportedException">The bytes are JSON (a TF.js model.json, whose weights are in other files).</exception>
    /// <exception cref="ObjectDisposedException">The layer or its device was disposed (before the stream is read).</exception>
    public void LoadWeights(Stream stream, WeightLayout layout = WeightLayout.Keras)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using (EnterCall())
        {
            LayerWeightFiles.Load(this, stream, layout);
        }
    }

    /// <summary>
    /// Loads weights from NumPy, safetensors or PyTorch files: an <c>.npz</c>, <c>.safetensors</c> or <c>.pt</c>/<c>.pth</c> (a <c>state_dict</c> saved by <c>torch.save</c>) with the kernel and (for a layer with bias) the bias,
    /// or an <c>.npy</c> with the kernel alone (the bias is left as it is). In those files the kernel is the
    /// array named <c>kernel</c> (Keras) or <c>weight</c> (PyTorch) — or the one name ending so, like
    /// <c>deconv.weight</c> — else <c>arr_0</c>; the bias is <c>bias</c>, the one name ending in <c>bias</c>, else
    /// <c>arr_1</c> (<c>numpy.savez</c>'s names for <c>get_weights()</c>'s order).
    /// </summary>
    /// <param name="path">An <c>.npz</c>, <c>.safetensors</c>, <c>.pt</c>, <c>.pth</c>, Keras <c>.weights.h5</c>/<c>.keras</c>/legacy <c>.h5</c> or <c>.npy</c> file, a TF.js layers model's <c>model.json</c> (its weights <c>LAYER/kernel</c> and <c>LAYER/bias</c> for this layer's name), or an ONNX model (the W and B initializers of its ConvTranspose node named as this layer, or of its only one; ONNX's layout whatever <paramref name="layout"/> says).</param>
    /// <param name="layout">The kernel's layout in the file: Keras <c>[kh, kw, filters, in_channels]</c> or PyTorch <c>[in_channels, filters, kh, kw]</c>.</param>
    /// <exception cref="System.IO.InvalidDataException">The file is malformed, or an array is missing or has the wrong shape (the message gives both shapes).</exception>
    /// <exception cref="ObjectDisposedException">The layer or its device was disposed (before the file is opened).</exception>
    public void LoadWeights(string path, WeightLayout layout = WeightLayout.Keras)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using (EnterCall())
        {
            LayerWeightFiles.Load(this, path, layout);
        }
    }

    /// <summary>
    /// Saves the layer as an ONNX model for inputs of <paramref name="inputShape"/> (any batch): a <c>ConvTranspose</c>
    /// node with explicit <c>pads</c> and the kernel and bias as initializers, then the activation as ONNX operators
    /// (softmax along Keras's last axis), with <c>Transpose</c> nodes around them for channels_last. ONNX Runtime runs it
    /// with this layer's outputs. Opset 20.
    /// </summary>
    /// <param name="path">The <c>.onnx</c> file to write.</param>
    /// <param name="inputShape">The input shape in the layer's data format (Keras's <c>same</c> padding depends on its sizes).</param>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    /// <exception cref="NotSupportedException">ONNX cannot express the layer: negative padding at the start, an extension past the full result beyond output_padding's range, or a custom activation.</exception>
    public void SaveOnnx(string path, TensorShape inputShape)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(inputShape);
        using (EnterCall())
        {
            using var buffer = new MemoryStream(); // nothing is written unless the whole model could be made
            OnnxModelWriter.Write(this, inputShape, buffer);
            File.WriteAllBytes(path, buffer.ToArray());
        }
    }

    /// <summary>Saves the layer as an ONNX model to a stream, as <see cref="SaveOnnx(string, TensorShape)"/>; nothing reaches the stream unless the whole model could be made, and the stream is left open.</summary>
    /// <param name="stream">Where to write.</param>
    /// <param name="inputShape">The input shape in the layer's data format.</param>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    /// <exception cref="NotSupportedException">ONNX cannot express the layer.</exception>
    public void SaveOnnx(Stream stream, TensorShape inputShape)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(inputShape);
        using (EnterCall())
        {
            using var buffer = new MemoryStream();
            OnnxModelWriter.Write(this, inputShape, buffer);
            buffer.Position = 0;
            buffer.CopyTo(stream);
        }
    }

    /// <summary>
    /// Creates a layer from an ONNX model's <c>ConvTranspose</c> node (the one named <paramref name="nodeName"/>, or the
    /// model's only one) for inputs of <paramref name="onnxInputShape"/>: its options (<see cref="OnnxConvTranspose.ToOptions"/>)
    /// and its weights from the model's initializers. A 1-D node becomes a layer of height 1: give its inputs
    /// <see cref="OnnxConvTranspose.LayerInputShape"/>.
    /// </summary>
    /// <param name="device">The device.</param>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <param name="onnxInputShape">The node's input shape X (<c>[N, C, H, W]</c>, or <c>[N, C, L]</c>).</param>
    /// <param name="nodeName">The node, or null for the model's only ConvTranspose node.</param>
    /// <returns>The layer (dispose it).</returns>
    /// <exception cref="InvalidDataException">The model is malformed, has no such node, or its weights are not initializers.</exception>
    /// <exception cref="NotSupportedException">The node is 3-D.</exception>
    public static Conv2DTranspose FromOnnx(DeconvDevice device, string path, TensorShape onnxInputShape, string? nodeName = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(device);
        device.ThrowIfDisposed(); // before the file is opened
        var node = LayerWeightFiles.OnnxNode(path, nodeName);
        var layer = new Conv2DTranspose(device, node.ToOptions(onnxInputShape));
        try
        {
            layer.LoadWeights(path);
            return layer;
        }
        catch
        {
            layer.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Creates a layer from an ONNX model read from a stream, as <see cref="FromOnnx(DeconvDevice, string, TensorShape, string?)"/>
    /// (the model is read into memory once, at most 2 GiB; the stream is left open). Weights kept as external data
    /// live in files beside the model: load such a model by path.
    /// </summary>
    /// <param name="device">The device.</param>
    /// <param name="stream">The model.</param>
    /// <param name="onnxInputShape">The node's input shape X (<c>[N, C, H, W]</c>, or <c>[N, C, L]</c>).</param>
    /// <param name="nodeName">The node, or null for the model's only ConvTranspose node.</param>
    /// <returns>The layer (dispose it).</returns>
    /// <exception cref="InvalidDataException">The model is malformed, has no such node, or its weights are not initializers in the model.</exception>
    /// <exception cref="NotSupportedException">The node is 3-D.</exception>
    public static Conv2DTranspose FromOnnx(DeconvDevice device, Stream stream, TensorShape onnxInputShape, string? nodeName = null)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(stream);
        device.ThrowIfDisposed(); // before the stream is read
        string name = stream is FileStream f ? f.Name : "the stream";
        using var model = LayerWeightFiles.InMemory(stream, name);
        var node = ReaderGuard.Run(name, () => LayerWeightFiles.OnnxNode(OnnxFormat.ConvTransposeNodes(OnnxFormat.ReadModel(model, name), name), name, nodeName));
        Conv2DTranspose? layer = new(device, node.ToOptions(onnxInputShape));
        try
        {
            model.Position = 0;
            layer.LoadWeights(model);
            var built = layer;
            layer = null; // the caller's now
            return built;
        }
        finally
        {
            layer?.Dispose();
        }
    }
}
