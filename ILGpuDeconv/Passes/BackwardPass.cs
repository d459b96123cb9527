using System;
using System.Collections.Generic;
using ILGPU;
using ILGpuDeconv.Geometry;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;
using ILGpuDeconv.Runtime;

namespace ILGpuDeconv.Passes;

/// <summary>
/// The backward pass of one layer: the gradient through the activation (its epilogue), the input gradient,
/// and the kernel and bias gradients as chunked partial sums finished in a fixed order. Owns its chunk
/// plans and scratch buffers.
/// </summary>
internal abstract class BackwardPass : IDisposable
{
    private protected readonly DeconvDevice device;
    private protected readonly ForwardPass forward;
    private protected readonly ScratchBuffer preActivationGradient;
    private protected readonly ScratchBuffer layout;
    private protected readonly ScratchBuffer kernelPartials;
    private protected readonly ScratchBuffer biasPartials;
    private protected readonly WeightFiniteness finiteness;
    private protected readonly ScratchBuffer roundedGradient;
    private protected readonly ScratchBuffer roundedInput;
    private protected long layoutVersion = -1;

    private protected BackwardPass(DeconvDevice device, ForwardPass forward)
    {
        this.device = device;
        this.forward = forward;
        preActivationGradient = new ScratchBuffer(device, "pre-activation gradient");
        layout = new ScratchBuffer(device, "input-gradient weight layout");
        kernelPartials = new ScratchBuffer(device, "kernel gradient partial sums");
        biasPartials = new ScratchBuffer(device, "bias gradient partial sums");
        finiteness = new WeightFiniteness(device, "input-gradient weight check");
        roundedGradient = new ScratchBuffer(device, "pre-activation gradient rounded to TF32");
        roundedInput = new ScratchBuffer(device, "input rounded to TF32");
    }

    /// <summary>Creates the pass with the memory access of the device's accelerator; it reads the pre-activation <paramref name="forward"/> stored.</summary>
    public static BackwardPass Create(DeconvDevice device, ForwardPass forward) =>
        device.Launcher.UsesPointers ? new BackwardPass<PointerMemory>(device, forward) : new BackwardPass<ViewMemory>(device, forward);

    /// <summary>How one call reduces the weight gradients, decided before anything is allocated or launched.</summary>
    /// <remarks>
    /// With a <paramref name="KernelTile"/> the tiled kernel-gradient program runs, its reduction split into
    /// <paramref name="KernelParts"/>; otherwise the direct program, in <paramref name="KernelChunks"/> (as many parts).
    /// </remarks>
    private protected readonly record struct Plan(
        ChunkPlan KernelChunks, ChunkPlan BiasChunks, bool AccumulateNow, bool Direct, long KernelElements, int Filters, TileShape? KernelTile, int KernelParts)
    {
        /// <summary>Gets the length of the kernel's partial sums, <c>[parts, kh, kw, F, C]</c>.</summary>
        public long KernelSumsLength => KernelParts * KernelElements;

        /// <summary>Gets the length of the bias's partial sums, <c>[chunks, F]</c> (at least one element).</summary>
        public long BiasSumsLength => Math.Max(1, (long)BiasChunks.Count * Filters);
    }

    /// <summary>The scratch space a call needs, for <see cref="ScratchBuffer.GrowAll"/> before anything launches.</summary>
    public IEnumerable<(ScratchBuffer Buffer, long Length)> ScratchNeeds(
        LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, bool inputGradient, bool accumulate)
    {
        var plan = PlanFor(weights, geometry, p, accumulate);
        var needs = new List<(ScratchBuffer, long)>();
        if (forward.NeedsPreActivation)
        {
            needs.Add((preActivationGradient, geometry.OutputElements));
        }

        if (inputGradient)
        {
            needs.Add((layout, p.InputGradientLayoutLength * p.Groups));
            needs.Add(finiteness.Need);
        }

        if (forward.Options.Trainable && !plan.Direct)
        {
            needs.Add((kernelPartials, plan.KernelSumsLength));
            needs.Add((biasPartials, plan.BiasSumsLength));
        }

        if (forward.RoundsOperands)
        {
            needs.Add((roundedGradient, geometry.OutputElements));
            if (forward.Options.Trainable)
            {
                needs.Add((roundedInput, geometry.InputElements));
            }
        }

        return needs;
    }

    private protected Plan PlanFor(LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, bool accumulate)
    {
        var options = forward.Options;
        var launcher = device.Launcher;
        bool accumulateNow = accumulate && weights.HasGradients;
        var kernelChunks = ChunkPlan.For(
            geometry.Batch * geometry.InputHeight,
            geometry.InputWidth,
            p.IsDepthwise ? p.DepthwiseKernelGradientItemsPerChunk : p.KernelGradientItemsPerChunk,
            launcher.ReductionThreads,
            oneThreadTerms: 0);
        var biasChunks = options.UseBias
            ? ChunkPlan.For(geometry.Batch * geometry.OutputHeight, geometry.OutputWidth, geometry.Filters, launcher.ReductionThreads, Launcher.SingleChunkBiasTerms)
            : ChunkPlan.None;

        TileShape? kernelTile = null;
        int kernelParts = kernelChunks.Count;
        if (device.UsesTiledProgramsFor(p))
        {
            (var shape, kernelParts) = TileChoice.ForKernelGradient(p, launcher.Multiprocessors);
            kernelTile = shape;
        }

        // One part each and nothing to add: the partial sums are the gradients, with no finishing launch.
        bool direct = kernelParts == 1 && biasChunks.Count <= 1 && options.KernelRegularizer is null && options.BiasRegularizer is null && !accumulateNow;
        return new Plan(kernelChunks, biasChunks, accumulateNow, direct, weights.KernelShape.ElementCount, geometry.Filters, kernelTile, kernelParts);
    }

    /// <summary>
    /// Launches the pass for the forward call that read <paramref name="input"/>: the input gradient into
    /// <paramref name="inputGradient"/> when given, and the weight gradients into <paramref name="weights"/> when
    /// the layer is trainable (added to the stored ones when <paramref name="accumulate"/> and they exist).
    /// </summary>
    public abstract void Run(
        LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, ArrayView<float> input, ArrayView<float> outputGradient, ArrayView<float>? inputGradient, bool accumulate);

    public void Dispose()
    {
        preActivationGradient.Dispose();
        finiteness.Dispose();
        roundedGradient.Dispose();
        roundedInput.Dispose();
        layout.Dispose();
        kernelPartials.Dispose();
        biasPartials.Dispose();
    }
}

/// <inheritdoc/>
internal sealed class BackwardPass<TMem>(DeconvDevice device, ForwardPass forward) : BackwardPass(device, forward)
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly ActivationEpilogue<TMem> epilogue = ActivationEpilogue<TMem>.For(forward.Options.Activation);

    public override void Run(
        LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, ArrayView<float> input, ArrayView<float> outputGradient, ArrayView<float>? inputGradient, bool accumulate)
    {
        var options = forward.Options;
        var launcher = device.Launcher;
        var stream = device.Accelerator.DefaultStream;

        // The plan and the buffers (grown by the caller through ScratchNeeds) before any launch.
        bool trainable = options.Trainable;
        var plan = PlanFor(weights, geometry, p, accumulate);
        var (kernelChunks, biasChunks, accumulateNow, direct, kernelElements, _, kernelTile, kernelParts) = plan;
        var kernelPenalty = options.KernelRegularizer;
        var biasPenalty = options.BiasRegularizer;
        var dz = forward.NeedsPreActivation ? preActivationGradient.Get(geometry.OutputElements) : outputGradient;
        var inputGradientLayout = inputGradient is null ? default : layout.Get(p.InputGradientLayoutLength * p.Groups);
        var kernelSums = !trainable ? default : direct ? weights.KernelGradient.View : kernelPartials.Get(plan.KernelSumsLength);
        var biasSums = !trainable ? default : direct ? weights.BiasGradient.View : biasPartials.Get(plan.BiasSumsLength);

        // The gradient at the pre-activation; the output gradient itself when the activation is linear.
        if (forward.NeedsPreActivation)
        {
            var activity = options.ActivityRegularizer;
            var penalty = activity is null ? default : new ActivityPenalty(activity.L1 / geometry.Batch, activity.L2 / geometry.Batch);
            epilogue.Gradient(launcher, stream, ForwardPass.LastAxisOf(geometry), penalty, TMem.Bind(outputGradient), TMem.Bind(forward.PreActivation(geometry.OutputElements)), TMem.Bind(dz));
        }

        // The convolutions' operand; with TF32 rounded, while the bias gradient keeps the float32 gradient.
        bool rounds = forward.RoundsOperands;
        var dzOperand = rounds ? TensorFloat32Operands.Round<TMem>(launcher, stream, dz, roundedGradient.Get(geometry.OutputElements)) : dz;

        if (inputGradient is ArrayView<float> dx)
        {
            if (layoutVersion != weights.Version)
            {
                launcher.Launch(stream, new InputGradientLayoutProgram<TMem>(p, TMem.Bind(weights.Kernel.View), TMem.Bind(inputGradientLayout)));

                if (rounds)
                {
                    TensorFloat32Operands.Round<TMem>(launcher, stream, inputGradientLayout, inputGradientLayout);
                }

                layoutVersion = weights.Version;
            }

            // As in the forward pass: tiled only with finite weights, whose products with padding zeros are zero.
            // The direct program takes all groups in one launch; the tiled one runs once per group, on its views.
            if (device.UsesTiledProgramsFor(p) && finiteness.AllFinite<TMem>(weights, stream))
            {
                var (rows, columns) = InputGradientTiledProgram.GemmSize(p);
                var shape = TileChoice.For(rows, columns, 1, launcher.Multiprocessors);
                for (int group = 0; group < p.Groups; group++)
                {
                    launcher.LaunchTiled(
                        stream,
                        new InputGradientTiledProgram(p, shape, ForwardTensors.Tail(dzOperand, p.OutputGroupOffset(group)), LayoutOf(inputGradientLayout, p, group), ForwardTensors.Tail(dx, p.InputGroupOffset(group))),
                        forward.TensorCores);
                }
            }
            else if (p.IsDepthwise)
            {
                launcher.Launch(stream, new DepthwiseInputGradientProgram<TMem>(p, TMem.Bind(dzOperand), TMem.Bind(inputGradientLayout), TMem.Bind(dx)));
            }
            else
            {
                launcher.Launch(stream, new InputGradientProgram<TMem>(p, TMem.Bind(dzOperand), TMem.Bind(inputGradientLayout), TMem.Bind(dx)));
            }
        }

        if (!trainable)
        {
            return;
        }

        // The direct program computes kernel and bias gradients in one launch when both take the same operands;
        // the bias runs alone after the tiled or depthwise program or when the kernel's operands are rounded.
        var inputOperand = rounds ? TensorFloat32Operands.Round<TMem>(launcher, stream, input, roundedInput.Get(geometry.InputElements)) : input;
        bool biasAlone = kernelTile is not null || p.IsDepthwise || rounds;
        if (kernelTile is TileShape tile)
        {
            // Once per group, on its input channels and filters and its channels of the kernel sums (innermost).
            for (int group = 0; group < p.Groups; group++)
            {
                launcher.LaunchTiled(
                    stream,
                    new KernelGradientTiledProgram(
                        p, tile, kernelParts, ForwardTensors.Tail(inputOperand, p.InputGroupOffset(group)), ForwardTensors.Tail(dzOperand, p.OutputGroupOffset(group)), ForwardTensors.Tail(kernelSums, (long)group * p.InChannels)),
                    forward.TensorCores);
            }
        }
        else if (p.IsDepthwise)
        {
            launcher.Launch(stream, new DepthwiseKernelGradientProgram<TMem>(p, kernelChunks, TMem.Bind(inputOperand), TMem.Bind(dzOperand), TMem.Bind(kernelSums)));
        }
        else
        {
            launcher.Launch(stream, new WeightGradientProgram<TMem>(
                p, kernelChunks, biasAlone ? ChunkPlan.None : biasChunks, TMem.Bind(inputOperand), TMem.Bind(dzOperand), TMem.Bind(kernelSums), TMem.Bind(biasSums)));
        }

        if (biasAlone && biasChunks.Count > 0)
        {
            // The bias sums run over all filters at once; the kernel's operands are not read.
            launcher.Launch(stream, new WeightGradientProgram<TMem>(
                p, ChunkPlan.None, biasChunks, TMem.Bind(inputOperand), TMem.Bind(dz), TMem.Bind(kernelSums), TMem.Bind(biasSums)));
        }

        if (!direct)
        {
            launcher.Launch(stream, new GradientFinishProgram<TMem>(
                new GradientFinish((int)kernelElements, kernelParts, kernelPenalty?.L1 ?? 0f, kernelPenalty?.L2 ?? 0f, accumulateNow),
                new GradientFinish(biasChunks.Count == 0 ? 0 : geometry.Filters, biasChunks.Count, biasPenalty?.L1 ?? 0f, biasPenalty?.L2 ?? 0f, accumulateNow),
                TMem.Bind(kernelSums), TMem.Bind(weights.Kernel.View), TMem.Bind(weights.KernelGradient.View),
                TMem.Bind(biasSums), TMem.Bind(weights.Bias.View), TMem.Bind(weights.BiasGradient.View)));
        }

        weights.HasGradients = true;
    }

    /// <summary>Group <paramref name="group"/>'s part of the input-gradient weight layout.</summary>
    private static ArrayView<float> LayoutOf(ArrayView<float> layout, in Conv2DTransposeParams p, int group) =>
        ForwardTensors.Tail(layout, group * p.InputGradientLayoutLength);
}
