using System;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv;

/// <content>The backward pass: gradients for the input, the kernel and the bias.</content>
public sealed partial class Conv2DTranspose
{
    /// <summary>
    /// Back-propagates the gradient of a loss with respect to the most recent <c>Forward</c> call's output:
    /// writes the input gradient (if <paramref name="inputGradient"/> is given) and, when the layer is
    /// trainable, the kernel and bias gradients (<see cref="GetGradients"/>; on the device,
    /// <see cref="KernelGradient"/> and <see cref="BiasGradient"/>). Regularizers add their gradients
    /// (weight regularizers to the weight gradients, the activity regularizer through the output).
    /// Deterministic: repeated calls give bitwise-identical results on one accelerator. Launches
    /// asynchronously: no copy, no synchronisation.
    /// </summary>
    /// <param name="outputGradient">The loss gradient with respect to the output; the output's shape.</param>
    /// <param name="inputGradient">Where to write the input gradient (the input's shape), or null to skip it.</param>
    /// <param name="accumulate">True to add the weight gradients to the stored ones (for layers sharing weights, or gradient accumulation), false to replace them.</param>
    /// <exception cref="ArgumentNullException"><paramref name="outputGradient"/> is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong or a tensor lives on another device.</exception>
    /// <exception cref="InvalidOperationException">No <c>Forward</c> call preceded this one, or its input tensor was disposed.</exception>
    /// <exception cref="ObjectDisposedException">The layer, the device or a tensor was disposed.</exception>
    public void Backward(DeviceTensor outputGradient, DeviceTensor? inputGradient, bool accumulate = false)
    {
        ArgumentNullException.ThrowIfNull(outputGradient);
        using (EnterCall())
        {
            var state = RequireSaved();
            using var heldOutputGradient = Hold(outputGradient, Device, nameof(outputGradient));
            CheckShape(outputGradient.Shape, state.Geometry.OutputShape, nameof(outputGradient), "the output of the last Forward call");
            using var heldInputGradient = inputGradient is null ? default : Hold(inputGradient, Device, nameof(inputGradient));
            if (inputGradient is not null)
            {
                CheckShape(inputGradient.Shape, state.Geometry.InputShape, nameof(inputGradient), "the input of the last Forward call");
                if (ReferenceEquals(inputGradient, outputGradient))
                {
                    throw new ArgumentException("inputGradient and outputGradient must be different tensors.", nameof(inputGradient));
                }
            }

            GrowForBackward(state, inputGradient is not null, accumulate);
            using var heldInput = HoldSavedInput(state);
            LaunchBackward(state, outputGradient.View, inputGradient?.View, accumulate);
        }
    }

    /// <summary>Back-propagates host data (see <see cref="Backward(DeviceTensor, DeviceTensor?, bool)"/>) and returns the input gradient.</summary>
    /// <param name="outputGradient">The loss gradient with respect to the output, row-major in the output's shape.</param>
    /// <returns>The input gradient, in the input's shape.</returns>
    /// <exception cref="ArgumentException">The length differs from the output's.</exception>
    /// <exception cref="InvalidOperationException">No <c>Forward</c> call preceded this one.</exception>
    public float[] Backward(ReadOnlySpan<float> outputGradient)
    {
        float[] result;
        using (EnterCall())
        {
            result = new float[RequireSaved().Geometry.InputElements];
        }

        Backward(outputGradient, result);
        return result;
    }

    /// <summary>Back-propagates host data into a caller's buffer for the input gradient.</summary>
    /// <param name="outputGradient">The loss gradient with respect to the output, row-major in the output's shape.</param>
    /// <param name="inputGradient">Where to write the input gradient; as long as the input.</param>
    /// <param name="accumulate">True to add the weight gradients to the stored ones.</param>
    /// <exception cref="ArgumentException">A length differs from its shape's.</exception>
    /// <exception cref="InvalidOperationException">No <c>Forward</c> call preceded this one.</exception>
    public void Backward(ReadOnlySpan<float> outputGradient, Span<float> inputGradient, bool accumulate = false)
    {
        using (EnterCall())
        {
            var state = RequireSaved();
            DeviceTensor.CheckLength(outputGradient, state.Geometry.OutputShape, nameof(outputGradient));
            DeviceTensor.CheckLength(inputGradient, state.Geometry.InputShape, nameof(inputGradient));
            GrowForBackward(state, inputGradient: true, accumulate, (host.OutputGradient, state.Geometry.OutputElements), (host.InputGradient, state.Geometry.InputElements));
            var deviceOutputGradient = host.OutputGradient.Get(state.Geometry.OutputElements);
            var deviceInputGradient = host.InputGradient.Get(state.Geometry.InputElements);
            var stream = Stream;
            using var heldInput = HoldSavedInput(state);
            deviceOutputGradient.CopyFromCPU(stream, outputGradient);
            LaunchBackward(state, deviceOutputGradient, deviceInputGradient, accumulate);
            stream.Synchronize();
            deviceInputGradient.CopyToCPU(stream, inputGradient);
            stream.Synchronize();
        }
    }

    private SavedForward RequireSaved()
    {
        var state = saved ?? throw new InvalidOperationException(
            $"Backward needs a Forward call first: layer '{Name}' keeps the input of its last Forward (Predict keeps nothing).");
        if (state.InputTensor is { IsDisposed: true })
        {
            throw InputTensorDisposed();
        }

        return state;
    }

    /// <summary>
    /// Holds the input tensor the last Forward kept (when it was given one) until the backward launches end, so that
    /// its Dispose on another thread waits; one already disposed is refused as <see cref="RequireSaved"/> refuses it.
    /// </summary>
    private SavedInputHold HoldSavedInput(SavedForward state)
    {
        if (state.InputTensor is { } tensor && !tensor.TryHold())
        {
            throw InputTensorDisposed();
        }

        return new SavedInputHold(state.InputTensor);
    }

    private InvalidOperationException InputTensorDisposed() =>
        new($"The input tensor of layer '{Name}''s last Forward call was disposed before Backward.");

    private readonly struct SavedInputHold(DeviceTensor? tensor) : IDisposable
    {
        public void Dispose() => tensor?.Release();
    }

    /// <summary>Grows the scratch space the backward pass needs (and <paramref name="staging"/>), all or nothing, before anything launches.</summary>
    private void GrowForBackward(SavedForward state, bool inputGradient, bool accumulate, params (ScratchBuffer Buffer, long Length)[] staging)
    {
        using var growth = ScratchBuffer.GrowAll(staging.Concat(backward.ScratchNeeds(CurrentWeights!, state.Geometry, state.Params, inputGradient, accumulate)));
        growth.Commit();
    }

    private void LaunchBackward(SavedForward state, ArrayView<float> outputGradient, ArrayView<float>? inputGradient, bool accumulate) =>
        backward.Run(CurrentWeights!, state.Geometry, state.Params, state.Input, outputGradient, inputGradient, accumulate);
}
