using System;
using System.Collections.Generic;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;
using ILGpuDeconv.Routing;

namespace ILGpuDeconv.Passes;

/// <summary>
/// The forward pass of one layer: refreshes the forward weight layout when the weights changed, asks
/// <see cref="ProgramRoutes.Forward"/> which program runs, then launches it with the activation's epilogue. Owns its
/// scratch buffers: the layout, and the pre-activation a training call keeps for the backward pass.
/// </summary>
internal sealed class ForwardPass : IDisposable
{
    private readonly DeconvDevice device;
    private readonly ScratchBuffer layout;
    private readonly ScratchBuffer preActivation;
    private readonly WeightFiniteness finiteness;
    private readonly ScratchBuffer roundedInput;
    private readonly ActivationEpilogue epilogue;
    private long layoutVersion = -1;

    public ForwardPass(DeconvDevice device, Conv2DTransposeOptions options)
    {
        this.device = device;
        Options = options;
        epilogue = ActivationEpilogue.For(options.Activation);
        layout = new ScratchBuffer(device, "forward weight layout");
        preActivation = new ScratchBuffer(device, "pre-activation");
        finiteness = new WeightFiniteness(device, "forward weight check");
        roundedInput = new ScratchBuffer(device, "input rounded to TF32");
    }

    public Conv2DTransposeOptions Options { get; }

    /// <summary>Gets the activation's part of the passes.</summary>
    public ActivationEpilogue Epilogue => epilogue;

    /// <summary>Gets the route the last call took, or null before the first.</summary>
    public ProgramRoute? LastRoute { get; private set; }

    /// <summary>Gets a value indicating whether the backward pass needs the pre-activation (a non-linear activation or an activity penalty).</summary>
    public bool NeedsPreActivation => !Options.Activation.IsLinear || Options.ActivityRegularizer is not null;

    /// <summary>Gets a value indicating whether the convolutions take TF32-rounded operands (<see cref="ConvolutionPrecision.TensorFloat32"/>).</summary>
    public bool RoundsOperands => Options.Precision == ConvolutionPrecision.TensorFloat32;

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
    public void Run(LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, ArrayView<float> input, ArrayView<float> output, bool keepForBackward)
    {
        if (device.Launcher.UsesPointers)
        {
            Run<PointerMemory>(weights, geometry, p, input, output, keepForBackward);
        }
        else
        {
            Run<ViewMemory>(weights, geometry, p, input, output, keepForBackward);
        }
    }

    /// <summary>
    /// Launches the forward program of <paramref name="route"/>: the direct one (or its depthwise form) once for all
    /// groups (the group is an index of its grid), the tiled one once per group, on views offset to the group's
    /// channels, filters and weight layout. <paramref name="p"/> are the convolution's sizes (the interior, where
    /// padding adds rows before the full result, whose border then gets its bias here). The epilogue calls it with
    /// its activation.
    /// </summary>
    internal static void LaunchProgram<TAct, TMem>(Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, in ForwardTensors whole, TAct function, ForwardFlags flags, ProgramRoute route)
        where TAct : unmanaged, IActivationFunction
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        if (p.HasLeadingBorder)
        {
            launcher.Launch(stream, new OutputBorderProgram<TAct, TMem>(
                p, TMem.Bind(whole.Bias), TMem.Bind(whole.Output), TMem.Bind(whole.PreActivation), function, flags));
        }

        var t = whole.Interior(p.OutputOffset);
        switch (route.Family)
        {
            case ProgramFamily.Depthwise:
                launcher.Launch(stream, new DepthwiseForwardProgram<TAct, TMem>(
                    p, TMem.Bind(t.Input), TMem.Bind(t.Layout), TMem.Bind(t.Bias), TMem.Bind(t.Output), TMem.Bind(t.PreActivation), function, flags));
                break;
            case ProgramFamily.Direct:
                launcher.Launch(stream, new ForwardProgram<TAct, TMem>(
                    p, TMem.Bind(t.Input), TMem.Bind(t.Layout), TMem.Bind(t.Bias), TMem.Bind(t.Output), TMem.Bind(t.PreActivation), function, flags));
                break;
            default:
                for (int group = 0; group < p.Groups; group++)
                {
                    var g = t.ForGroup(p, group);
                    if (ForwardTiledProgram.ContiguousRuns(p, g.Input))
                    {
                        launcher.LaunchTiled(stream, new ForwardTiledProgram<TAct, ContiguousRuns>(p, route.Tile!.Value, g.Input, g.Layout, g.Bias, g.Output, g.PreActivation, function, flags), route.TensorCores);
                    }
                    else
                    {
                        launcher.LaunchTiled(stream, new ForwardTiledProgram<TAct, StridedRuns>(p, route.Tile!.Value, g.Input, g.Layout, g.Bias, g.Output, g.PreActivation, function, flags), route.TensorCores);
                    }
                }

                break;
        }
    }

    public void Dispose()
    {
        layout.Dispose();
        preActivation.Dispose();
        finiteness.Dispose();
        roundedInput.Dispose();
    }

    private void Run<TMem>(LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, ArrayView<float> input, ArrayView<float> output, bool keepForBackward)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        bool storePre = keepForBackward && NeedsPreActivation;
        var pre = storePre ? preActivation.Get(geometry.OutputElements) : output; // not written without the flag
        var forwardLayout = layout.Get(p.ForwardLayoutLength * p.Groups);
        var launcher = device.Launcher;
        var stream = device.Accelerator.DefaultStream;
        if (layoutVersion != weights.Version)
        {
            launcher.Launch(stream, new ForwardLayoutProgram<TMem>(p, TMem.Bind(weights.Kernel.View), TMem.Bind(forwardLayout)));

            if (RoundsOperands)
            {
                TensorFloat32Operands.Round<TMem>(launcher, stream, forwardLayout, forwardLayout);
            }

            layoutVersion = weights.Version;
        }

        if (RoundsOperands)
        {
            input = TensorFloat32Operands.Round<TMem>(launcher, stream, input, roundedInput.Get(geometry.InputElements));
        }

        var flags = (storePre ? ForwardFlags.StorePreActivation : ForwardFlags.None)
            | (Options.UseBias ? ForwardFlags.AddBias : ForwardFlags.None);
        var tensors = new ForwardTensors(input, forwardLayout, weights.Bias.View, output, pre);
        var rows = LastAxisOf(geometry);
        var sizes = p.HasLeadingBorder ? new Conv2DTransposeParams(geometry, interior: true) : p;
        var route = ProgramRoutes.Forward(
            RouteContext.Of(device, Options.Precision),
            sizes,
            () => finiteness.AllFinite<TMem>(weights, stream),
            candidate => epilogue.Forward<TMem>(launcher, stream, sizes, rows, tensors, flags, candidate));
        epilogue.Forward<TMem>(launcher, stream, sizes, rows, tensors, flags, route);
        LastRoute = route.AsRun(launcher.TensorCoreFailure);
    }
}
