using System;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv;

/// <content>The forward pass: device and host forms, with and without keeping state for the backward pass.</content>
public sealed partial class Conv2DTranspose
{
    private SavedForward? saved;

    /// <summary>
    /// Runs the layer on device tensors and keeps what <see cref="Backward(DeviceTensor, DeviceTensor?, bool)"/>
    /// needs (a reference to <paramref name="input"/>, and the pre-activation when the activation or the
    /// activity regularizer needs it). Launches asynchronously: no copy, no synchronisation.
    /// Do not change <paramref name="input"/> before the backward pass.
    /// </summary>
    /// <param name="input">The input, rank 4 in the layer's data format.</param>
    /// <param name="output">Where to write; its shape must be <see cref="ComputeOutputShape"/> of the input's.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="ArgumentException">A shape is wrong (the message gives both), a tensor lives on another device, or the tensors are the same.</exception>
    /// <exception cref="ObjectDisposedException">The layer, the device or a tensor was disposed.</exception>
    public void Forward(DeviceTensor input, DeviceTensor output) => RunForward(input, output, keepForBackward: true);

    /// <summary>Runs the layer on a device tensor into a new output tensor, keeping state for the backward pass.</summary>
    /// <param name="input">The input, rank 4 in the layer's data format.</param>
    /// <returns>The output; the caller owns and disposes it.</returns>
    /// <exception cref="ArgumentException">The input's shape is invalid.</exception>
    public DeviceTensor Forward(DeviceTensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var output = DeviceTensor.Allocate(Device, GetGeometry(input.Shape).OutputShape);
        try
        {
            Forward(input, output);
            return output;
        }
        catch
        {
            output.Dispose();
            throw;
        }
    }

    /// <summary>Runs the layer for inference only (Keras <c>training=False</c>): nothing is kept for a backward pass.</summary>
    /// <param name="input">The input, rank 4 in the layer's data format.</param>
    /// <param name="output">Where to write; its shape must be <see cref="ComputeOutputShape"/> of the input's.</param>
    /// <exception cref="ArgumentException">A shape is wrong or a tensor lives on another device.</exception>
    public void Predict(DeviceTensor input, DeviceTensor output) => RunForward(input, output, keepForBackward: false);

    /// <summary>Runs the layer on host data, keeping state for the backward pass; waits for the result.</summary>
    /// <param name="input">The input values, row-major.</param>
    /// <param name="inputShape">The input shape, rank 4 in the layer's data format.</param>
    /// <returns>The output values; their shape is <see cref="ComputeOutputShape"/> of <paramref name="inputShape"/>.</returns>
    /// <exception cref="ArgumentException">The shape is invalid or the data length differs from it.</exception>
    public float[] Forward(ReadOnlySpan<float> input, TensorShape inputShape)
    {
        var result = new float[ComputeOutputShape(inputShape).ElementCount];
        Forward(input, inputShape, result);
        return result;
    }

    /// <summary>Runs the layer on host data into a caller's buffer, keeping state for the backward pass.</summary>
    /// <param name="input">The input values, row-major.</param>
    /// <param name="inputShape">The input shape, rank 4 in the layer's data format.</param>
    /// <param name="output">Where to write; as long as the output shape.</param>
    /// <exception cref="ArgumentException">A shape or length is wrong.</exception>
    public void Forward(ReadOnlySpan<float> input, TensorShape inputShape, Span<float> output) =>
        RunHostForward(input, inputShape, output, keepForBackward: true);

    /// <summary>Runs the layer on host data for inference only; waits for the result.</summary>
    /// <param name="input">The input values, row-major.</param>
    /// <param name="inputShape">The input shape, rank 4 in the layer's data format.</param>
    /// <returns>The output values.</returns>
    /// <exception cref="ArgumentException">The shape is invalid or the data length differs from it.</exception>
    public float[] Predict(ReadOnlySpan<float> input, TensorShape inputShape)
    {
        var result = new float[ComputeOutputShape(inputShape).ElementCount];
        RunHostForward(input, inputShape, result, keepForBackward: false);
        return result;
    }

    /// <summary>Checks that a tensor lives on the layer's device and holds it for the call: its Dispose waits for the call.</summary>
    private static LifetimeGate.Lease Hold(DeviceTensor tensor, DeconvDevice device, string argumentName)
    {
        if (tensor.Device != device)
        {
            throw new ArgumentException($"{argumentName} lives on another device ({tensor.Device.Info.Name}) than the layer.", argumentName);
        }

        return tensor.Hold();
    }

    private static void CheckShape(TensorShape actual, TensorShape expected, string argumentName, string what)
    {
        if (actual != expected)
        {
            throw new ArgumentException($"{argumentName} has shape {actual} but {what} is {expected}.", argumentName);
        }
    }

    private void RunForward(DeviceTensor input, DeviceTensor output, bool keepForBackward)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        using (EnterCall())
        {
            using var heldInput = Hold(input, Device, nameof(input));
            using var heldOutput = Hold(output, Device, nameof(output));
            if (ReferenceEquals(input, output))
            {
                throw new ArgumentException("input and output must be different tensors.", nameof(output));
            }

            var geometry = GetGeometry(input.Shape);
            CheckShape(output.Shape, geometry.OutputShape, nameof(output), $"the output for input shape {input.Shape}");
            var p = ParamsFor(geometry, nameof(input));
            var w = Prepare(geometry, p, keepForBackward, nameof(input));
            ForgetSavedIf(keepForBackward);
            forward.Run(w, geometry, p, input.View, output.View, keepForBackward);
            if (keepForBackward)
            {
                saved = new SavedForward(geometry, p, input.View, input);
            }
        }
    }

    private void RunHostForward(ReadOnlySpan<float> input, TensorShape inputShape, Span<float> output, bool keepForBackward)
    {
        ArgumentNullException.ThrowIfNull(inputShape);
        using (EnterCall())
        {
            var geometry = GetGeometry(inputShape);
            DeviceTensor.CheckLength(input, inputShape, nameof(input));
            DeviceTensor.CheckLength(output, geometry.OutputShape, nameof(output));
            var p = ParamsFor(geometry, nameof(inputShape));

            var (inputStage, outputStage) = keepForBackward ? (host.ForwardInput, host.ForwardOutput) : (host.PredictInput, host.PredictOutput);
            var w = Prepare(geometry, p, keepForBackward, nameof(input), (inputStage, geometry.InputElements), (outputStage, geometry.OutputElements));
            var deviceInput = inputStage.Get(geometry.InputElements);
            var deviceOutput = outputStage.Get(geometry.OutputElements);
            var stream = Stream;
            ForgetSavedIf(keepForBackward);
            deviceInput.CopyFromCPU(stream, input);
            forward.Run(w, geometry, p, deviceInput, deviceOutput, keepForBackward);
            if (keepForBackward)
            {
                saved = new SavedForward(geometry, p, deviceInput, null);
            }

            stream.Synchronize();
            deviceOutput.CopyToCPU(stream, output);
            stream.Synchronize();
        }
    }

    /// <summary>
    /// Grows the scratch space the call needs (and <paramref name="staging"/>) and builds the weights if needed,
    /// all or nothing: when memory runs out, the grown buffers and new weights are released again, and the
    /// layer (including what the last Forward saved for Backward) is as it was.
    /// </summary>
    private LayerWeights Prepare(Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, bool keepForBackward, string argumentName, params (ScratchBuffer Buffer, long Length)[] staging)
    {
        using var growth = ScratchBuffer.GrowAll(staging.Concat(forward.ScratchNeeds(geometry, p, keepForBackward)));
        var w = EnsureBuilt(geometry.InputChannels, argumentName);
        growth.Commit();
        return w;
    }

    /// <summary>
    /// Drops what the last Forward saved once a training call has committed its buffers: they may have replaced
    /// the saved ones, so a launch that then fails must not leave a Backward reading them.
    /// </summary>
    private void ForgetSavedIf(bool keepForBackward)
    {
        if (keepForBackward)
        {
            saved = null;
        }
    }

    /// <summary>What a training forward call leaves for the backward pass.</summary>
    private sealed record SavedForward(Conv2DTransposeGeometry Geometry, Conv2DTransposeParams Params, ArrayView<float> Input, DeviceTensor? InputTensor);
}
