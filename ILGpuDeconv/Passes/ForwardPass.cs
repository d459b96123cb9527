using System;
using System.Collections.Generic;
using ILGPU;
using ILGpuDeconv.Geometry;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;
using ILGpuDeconv.Runtime;

namespace ILGpuDeconv.Passes;

/// <summary>
/// The forward pass of one layer: refreshes the forward weight layout when the weights changed, then runs
/// the forward program with the activation's epilogue. Owns its scratch buffers: the layout, and the
/// pre-activation a training call keeps for the backward pass.
/// </summary>
internal abstract class ForwardPass : IDisposable
{
    private protected readonly DeconvDevice device;
    private protected readonly ScratchBuffer layout;
    private protected readonly ScratchBuffer preActivation;
    private protected readonly WeightFiniteness finiteness;
    private protected readonly ScratchBuffer roundedInput;
    private protected long layoutVersion = -1;

    private protected ForwardPass(DeconvDevice device, Conv2DTransposeOptions options)
    {
        this.device = device;
        Options = options;
        layout = new ScratchBuffer(device, "forward weight layout");
        preActivation = new ScratchBuffer(device, "pre-activation");
        finiteness = new WeightFiniteness(device, "forward weight check");
        roundedInput = new ScratchBuffer(device, "input rounded to TF32");
    }

    public Conv2DTransposeOptions Options { get; }

    /// <summary>Gets a value indicating whether the backward pass needs the pre-activation (a non-linear activation or an activity penalty).</summary>
    public bool NeedsPreActivation => !Options.Activation.IsLinear || Options.ActivityRegularizer is not null;

    /// <summary>Creates the pass with the memory access of the device's accelerator.</summary>
    public static ForwardPass Create(DeconvDevice device, Conv2DTransposeOptions options) =>
        device.Launcher.UsesPointers ? new ForwardPass<PointerMemory>(device, options) : new ForwardPass<ViewMemory>(device, options);

    /// <summary>Gets a value indicating whether the convolutions take TF32-rounded operands (<see cref="ConvolutionPrecision.TensorFloat32"/>).</summary>
    public bool RoundsOperands => Options.Precision == ConvolutionPrecision.TensorFloat32;

    /// <summary>Gets a value indicating whether the tiled programs run on tensor cores: TF32 operands on a device that has them (<see cref="DeconvDevice.UsesTensorCores"/>).</summary>
    public bool TensorCores => RoundsOperands && device.UsesTensorCores;

    /// <summary>The output as rows of its last axis (Keras's softmax axis): the filters for channels_last, the width for channels_first.</summary>
    public static LastAxis LastAxisOf(Conv2DTransposeGeometry geometry)
    {
        int length = geometry.DataFormat == DataFormat.ChannelsLast ? geometry.Filters : geometry.OutputWidth;
        return new LastAxis((int)(geometry.OutputElements / length), length);
    }

    /// <summary>The scratch space a call needs, for <see cref="ScratchBuffer.GrowAll"/> before anything launches.</summary>
    public IEnumerable<(ScratchBuffer Buffer, long Length)> ScratchNeeds(Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, bool keepForBackward)
    {
        var needs = new List<(ScratchBuffer, long)> { (layout, p.ForwardLayoutLength * p.Groups), finiteness.Need };
        if (keepForBackward && NeedsPreActivation)
        {
            needs.Add((preActivation, geometry.OutputElements));
        }

        if (RoundsOperands)
        {
            needs.Add((roundedInput, geometry.InputElements));
        }

        return needs;
    }

    /// <summary>Gets the pre-activation the last training call stored, <paramref name="length"/> elements.</summary>
    public ArrayView<float> PreActivation(long length) => preActivation.Get(length);

    /// <summary>
    /// Launches the pass. Allocations (which may fail) come before any launch, so a refused call changes
    /// nothing on the device.
    /// </summary>
    public abstract void Run(LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, ArrayView<float> input, ArrayView<float> output, bool keepForBackward);

    public void Dispose()
    {
        layout.Dispose();
        preActivation.Dispose();
        finiteness.Dispose();
        roundedInput.Dispose();
    }
}

/// <inheritdoc/>
internal sealed class ForwardPass<TMem>(DeconvDevice device, Conv2DTransposeOptions options) : ForwardPass(device, options)
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly ActivationEpilogue<TMem> epilogue = ActivationEpilogue<TMem>.For(options.Activation);

    public override void Run(LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, ArrayView<float> input, ArrayView<float> output, bool keepForBackward)
    {
        bool storePre = keepForBackward && NeedsPreActivation;
        var pre = storePre ? preActivation.Get(geometry.OutputElements) : output; // not written without the flag
        var forwardLayout = layout.Get(p.ForwardLayoutLength * p.Groups);
        var stream = device.Accelerator.DefaultStream;
        if (layoutVersion != weights.Version)
        {
            device.Launcher.Launch(stream, new ForwardLayoutProgram<TMem>(p, TMem.Bind(weights.Kernel.View), TMem.Bind(forwardLayout)));

            if (RoundsOperands)
            {
                TensorFloat32Operands.Round<TMem>(device.Launcher, stream, forwardLayout, forwardLayout);
            }

            layoutVersion = weights.Version;
        }

        if (RoundsOperands)
        {
            input = TensorFloat32Operands.Round<TMem>(device.Launcher, stream, input, roundedInput.Get(geometry.InputElements));
        }

        // The tiled program forms products with padding zeros: only with finite weights.
        TileShape? tile = null;
        if (device.UsesTiledProgramsFor(p) && finiteness.AllFinite<TMem>(weights, stream))
        {
            var (rows, columns, problems) = ForwardTiledProgram<Activations.LinearFunction>.GemmSize(p);
            tile = TileChoice.For(rows, columns, problems, device.Launcher.Multiprocessors);
        }

        int flags = (storePre ? ForwardFlags.StorePreActivation : 0)
            | (Options.UseBias ? ForwardFlags.AddBias : 0);
        epilogue.Forward(device.Launcher, stream, p, LastAxisOf(geometry), new ForwardTensors(input, forwardLayout, weights.Bias.View, output, pre), flags, tile, TensorCores);
    }
}
