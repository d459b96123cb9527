using System;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Activations;
using ILGpuDeconv.Kernels;
using ILGpuDeconv.Runtime;
using ILGpuDeconv.Tensors;

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
        lock (registration.SyncRoot)
        {
            ThrowIfDisposed();
            var state = RequireSaved();
            CheckTensor(outputGradient, Device, nameof(outputGradient));
            CheckShape(outputGradient.Shape, state.Geometry.OutputShape, nameof(outputGradient), "the output of the last Forward call");
            if (inputGradient is not null)
            {
                CheckTensor(inputGradient, Device, nameof(inputGradient));
                CheckShape(inputGradient.Shape, state.Geometry.InputShape, nameof(inputGradient), "the input of the last Forward call");
                if (ReferenceEquals(inputGradient, outputGradient))
                {
                    throw new ArgumentException("inputGradient and outputGradient must be different tensors.", nameof(inputGradient));
                }
            }

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
        lock (registration.SyncRoot)
        {
            ThrowIfDisposed();
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
        lock (registration.SyncRoot)
        {
            ThrowIfDisposed();
            var state = RequireSaved();
            DeviceTensor.CheckLength(outputGradient.Length, state.Geometry.OutputShape, nameof(outputGradient));
            DeviceTensor.CheckLength(inputGradient.Length, state.Geometry.InputShape, nameof(inputGradient));
            var deviceOutputGradient = workspace.Get("host.backward.output-gradient", state.Geometry.OutputElements);
            var deviceInputGradient = workspace.Get("host.backward.input-gradient", state.Geometry.InputElements);
            var stream = Stream;
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
            throw new InvalidOperationException($"The input tensor of layer '{Name}''s last Forward call was disposed before Backward.");
        }

        return state;
    }

    private void LaunchBackward(SavedForward state, ArrayView<float> outputGradient, ArrayView<float>? inputGradient, bool accumulate)
    {
        var w = CurrentWeights!;
        var p = state.Params;
        var stream = Stream;
        var geometry = state.Geometry;

        // The gradient at the pre-activation; the output gradient itself when the activation is linear.
        var dz = outputGradient;
        if (NeedsPreActivation)
        {
            dz = workspace.Get("backward.pre-activation-gradient", geometry.OutputElements);
            var pre = workspace.Get("forward.pre-activation", geometry.OutputElements);
            var activity = Options.ActivityRegularizer;
            var penalty = activity is null
                ? default
                : new ActivityPenalty(activity.L1 / geometry.Batch, activity.L2 / geometry.Batch);
            if (Options.Activation is SoftmaxActivation softmax)
            {
                kernels.SoftmaxGradient(stream, RowsOf(geometry, softmax), penalty, outputGradient, pre, dz);
            }
            else
            {
                kernels.ActivationGradient(stream, (int)geometry.OutputElements, penalty, outputGradient, pre, dz);
            }
        }

        if (inputGradient is ArrayView<float> dx)
        {
            kernels.InputGradient(stream, p, dz, Layouts(w, p).InputGradient, dx);
        }

        if (!Options.Trainable)
        {
            return;
        }

        bool accumulateNow = accumulate && w.HasGradients;
        long kernelElements = w.KernelShape.ElementCount;
        var kernelChunks = ChunkPlan.For(
            geometry.Batch * geometry.InputHeight,
            geometry.InputWidth,
            p.KernelGradientItemsPerChunk,
            TargetThreads,
            oneThreadTerms: 0);
        var biasChunks = Options.UseBias
            ? ChunkPlan.For(geometry.Batch * geometry.OutputHeight, geometry.OutputWidth, geometry.Filters, TargetThreads, oneThreadTerms: 16384)
            : ChunkPlan.None;
        var kernelPenalty = Options.KernelRegularizer;
        var biasPenalty = Options.BiasRegularizer;

        // One chunk each and nothing to add: the partial sums are the gradients, and one launch does it all.
        bool direct = kernelChunks.Count == 1 && biasChunks.Count <= 1 && kernelPenalty is null && biasPenalty is null && !accumulateNow;
        var kernelPartials = direct ? w.KernelGradient.View : workspace.Get("backward.kernel-partials", kernelChunks.Count * kernelElements);
        var biasPartials = direct ? w.BiasGradient.View : workspace.Get("backward.bias-partials", Math.Max(1, (long)biasChunks.Count * geometry.Filters));
        kernels.WeightGradients(stream, p, kernelChunks, biasChunks, state.Input, dz, kernelPartials, biasPartials);
        if (!direct)
        {
            kernels.FinishGradients(
                stream,
                new GradientFinish((int)kernelElements, kernelChunks.Count, kernelPenalty?.L1 ?? 0f, kernelPenalty?.L2 ?? 0f, accumulateNow),
                new GradientFinish(biasChunks.Count == 0 ? 0 : geometry.Filters, biasChunks.Count, biasPenalty?.L1 ?? 0f, biasPenalty?.L2 ?? 0f, accumulateNow),
                (kernelPartials, w.Kernel.View, w.KernelGradient.View),
                (biasPartials, w.Bias.View, w.BiasGradient.View));
        }

        w.HasGradients = true;
    }

    /// <summary>How many threads a split reduction aims for on this accelerator.</summary>
    /// <remarks>
    /// CPUs (ILGPU's CPU accelerator, and OpenCL CPU devices such as PoCL, whose "threads per
    /// multiprocessor" are no hardware threads) need a few hundred items per core; GPUs need enough
    /// resident threads to fill every multiprocessor several times.
    /// </remarks>
    private long TargetThreads => Device.Accelerator switch
    {
        _ when Device.Kind == AcceleratorKind.Cpu => 64L * Environment.ProcessorCount,
        ILGPU.Runtime.OpenCL.CLAccelerator { DeviceType: ILGPU.Runtime.OpenCL.CLDeviceType.CL_DEVICE_TYPE_CPU } cl => 8192L * cl.NumMultiprocessors,
        var gpu => 8L * gpu.NumMultiprocessors * gpu.MaxNumThreadsPerMultiprocessor,
    };
}
