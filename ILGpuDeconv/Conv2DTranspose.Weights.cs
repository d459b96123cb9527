using System;
using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv;

/// <content>Weights and gradients: Keras's get/set_weights, device views, regularization losses.</content>
public sealed partial class Conv2DTranspose
{
    /// <summary>Gets the kernel on the device (<c>[kh, kw, filters, in_channels]</c>), a view the layer owns; null before the layer is built.</summary>
    public DeviceTensor? Kernel => View(w => w.Kernel.View, w => w.KernelShape);

    /// <summary>Gets the bias on the device (<c>[filters]</c>), a view the layer owns; null before the layer is built or without bias.</summary>
    public DeviceTensor? Bias => Options.UseBias ? View(w => w.Bias.View, w => w.BiasShape) : null;

    /// <summary>Gets the kernel gradient on the device, written by the backward pass; null before the layer is built.</summary>
    public DeviceTensor? KernelGradient => View(w => w.KernelGradient.View, w => w.KernelShape);

    /// <summary>Gets the bias gradient on the device; null before the layer is built or without bias.</summary>
    public DeviceTensor? BiasGradient => Options.UseBias ? View(w => w.BiasGradient.View, w => w.BiasShape) : null;

    /// <summary>Copies the weights to the host in Keras's order and layout (<c>get_weights()</c>): the kernel <c>[kh, kw, filters, in_channels]</c> and the bias (null without bias).</summary>
    /// <returns>The kernel and the bias.</returns>
    /// <exception cref="InvalidOperationException">The layer is not built yet.</exception>
    public (float[] Kernel, float[]? Bias) GetWeights()
    {
        using (EnterCall())
        {
            var w = RequireBuilt();
            return (Download(w.Kernel.View, w.KernelShape.ElementCount), Options.UseBias ? Download(w.Bias.View, w.BiasShape.ElementCount) : null);
        }
    }

    /// <summary>
    /// Replaces the weights (Keras <c>set_weights([kernel, bias])</c>). Before the layer is built, the input
    /// channel count is taken from the kernel's length.
    /// </summary>
    /// <param name="kernel">The kernel, row-major <c>[kh, kw, filters, in_channels]</c>.</param>
    /// <param name="bias">The bias (<c>[filters]</c>); empty when the layer has no bias.</param>
    /// <exception cref="ArgumentException">A length does not match the layer's shapes (the message gives them).</exception>
    public void SetWeights(ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias)
    {
        using (EnterCall())
        {
            DeviceTensor.ThrowIfNull(kernel, nameof(kernel));
            int perGroup = Options.Filters / Options.Groups;
            int taps = Options.KernelSize.Height * Options.KernelSize.Width * perGroup;
            int channels = CurrentWeights?.KernelShape[3] ?? (kernel.Length > 0 && kernel.Length % taps == 0 ? kernel.Length / taps : -1);
            if (channels < 1)
            {
                throw new ArgumentException(
                    $"kernel holds {kernel.Length} values, which is not [{Options.KernelSize.Height}, {Options.KernelSize.Width}, {perGroup}, in_channels] for any in_channels.",
                    nameof(kernel));
            }

            var kernelShape = new TensorShape(Options.KernelSize.Height, Options.KernelSize.Width, perGroup, channels);
            DeviceTensor.CheckLength(kernel, kernelShape, nameof(kernel));
            if (Options.UseBias)
            {
                DeviceTensor.CheckLength(bias, new TensorShape(Options.Filters), nameof(bias));
            }
            else if (!bias.IsEmpty)
            {
                throw new ArgumentException($"bias must be empty: layer '{Name}' has use_bias=False; got {bias.Length} values.", nameof(bias));
            }

            var w = EnsureBuilt(channels, nameof(kernel));
            Upload(w, kernel, Options.UseBias ? bias : default);
        }
    }

    /// <summary>Copies the gradients of the last backward pass to the host: kernel and bias (null without bias).</summary>
    /// <returns>The gradients, in the weights' layouts.</returns>
    /// <exception cref="InvalidOperationException">No backward pass computed weight gradients yet.</exception>
    public (float[] Kernel, float[]? Bias) GetGradients()
    {
        using (EnterCall())
        {
            var w = RequireBuilt();
            if (!w.HasGradients)
            {
                throw new InvalidOperationException($"Layer '{Name}' has no weight gradients yet: run Backward on a trainable layer first.");
            }

            return (Download(w.KernelGradient.View, w.KernelShape.ElementCount), Options.UseBias ? Download(w.BiasGradient.View, w.BiasShape.ElementCount) : null);
        }
    }

    /// <summary>
    /// Computes the layer's regularization losses (Keras <c>layer.losses</c>, summed): the kernel and bias
    /// penalties of the current weights, plus the activity penalty of the last <c>Forward</c> call's output
    /// divided by its batch size. Copies to the host; for logging, not for the hot path.
    /// </summary>
    /// <returns>The total penalty (0 without regularizers).</returns>
    public double RegularizationLoss()
    {
        using (EnterCall())
        {
            double total = 0;
            if (CurrentWeights is { } w)
            {
                if (Options.KernelRegularizer is { } kernelPenalty)
                {
                    total += kernelPenalty.Penalty(Download(w.Kernel.View, w.KernelShape.ElementCount));
                }

                if (Options.BiasRegularizer is { } biasPenalty && Options.UseBias)
                {
                    total += biasPenalty.Penalty(Download(w.Bias.View, w.BiasShape.ElementCount));
                }
            }

            if (Options.ActivityRegularizer is { } activity && saved is { } state)
            {
                var pre = Download(forward.PreActivation(state.Geometry.OutputElements), state.Geometry.OutputElements);
                Options.Activation.ApplyRows(pre, Passes.ForwardPass.LastAxisOf(state.Geometry).Length);

                total += activity.Penalty(pre) / state.Geometry.Batch;
            }

            return total;
        }
    }

    private static void Upload(LayerWeights target, ReadOnlySpan<float> kernel, ReadOnlySpan<float> bias)
    {
        var stream = target.Device.Accelerator.DefaultStream;
        target.Kernel.View.CopyFromCPU(stream, kernel);
        if (target.UseBias && !bias.IsEmpty)
        {
            target.Bias.View.CopyFromCPU(stream, bias);
        }

        stream.Synchronize();
        target.Version++;
    }

    private float[] Download(ArrayView<float> view, long length)
    {
        var result = new float[length];
        var stream = Stream;
        stream.Synchronize();
        view.SubView(0, length).CopyToCPU(stream, result);
        stream.Synchronize();
        return result;
    }

    private LayerWeights RequireBuilt() =>
        CurrentWeights ?? throw new InvalidOperationException(
            $"Layer '{Name}' has no weights yet: call it once, or Build(inputChannels), or SetWeights first.");

    private DeviceTensor? View(Func<LayerWeights, ArrayView<float>> view, Func<LayerWeights, TensorShape> shape)
    {
        using (EnterCall())
        {
            return CurrentWeights is { } w ? DeviceTensor.Wrap(Device, view(w), shape(w)) : null;
        }
    }
}
