using System;
using System.Collections.Generic;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;
using ILGpuDeconv.Routing;

namespace ILGpuDeconv.Passes;

/// <summary>
/// The backward pass of one layer: the gradient through the activation (its epilogue), the input gradient,
/// and the kernel and bias gradients as partial sums finished in a fixed order, each convolution on the route
/// <see cref="ProgramRoutes"/> gives it. Owns its scratch buffers.
/// </summary>
internal sealed class BackwardPass : IDisposable
{
    private readonly DeconvDevice device;
    private readonly ForwardPass forward;
    private readonly ScratchBuffer preActivationGradient;
    private readonly ScratchBuffer layout;
    private readonly ScratchBuffer kernelPartials;
    private readonly ScratchBuffer biasPartials;
    private readonly WeightFiniteness finiteness;
    private readonly ScratchBuffer roundedGradient;
    private readonly ScratchBuffer roundedInput;
    private long layoutVersion = -1;

    /// <summary>Creates the pass; it reads the pre-activation <paramref name="forward"/> stored.</summary>
    public BackwardPass(DeconvDevice device, ForwardPass forward)
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

    /// <summary>Gets the route the last call's input gradient took, or null.</summary>
    public ProgramRoute? LastInputGradientRoute { get; private set; }

    /// <summary>Gets the route the last call's kernel gradient took, or null.</summary>
    public ProgramRoute? LastKernelGradientRoute { get; private set; }

    /// <summary>The scratch space a call needs, for <see cref="ScratchBuffer.GrowAll"/> before anything launches.</summary>
    public IEnumerable<(ScratchBuffer Buffer, long Length)> ScratchNeeds(
        LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, bool inputGradient, bool accumulate)
    {
        var options = forward.Options;
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

        if (options.Trainable)
        {
            // A measurement to come runs every candidate into the partial sums: room for the largest.
            var context = RouteContext.Of(device, options.Precision);
            var sizes = ConvolutionSizes(geometry, p);
            var plans = (ProgramRoutes.PendingKernelGradientCandidates(context, p) ?? [ProgramRoutes.KernelGradient(context, p)])
                .Select(route => PlanFor(route, weights, geometry, sizes, accumulate))
                .ToList();
            if (plans.Count > 1 || !plans[0].Direct)
            {
                needs.Add((kernelPartials, plans.Max(plan => plan.KernelSumsLength)));
                needs.Add((biasPartials, plans.Max(plan => plan.BiasSumsLength)));
            }
        }

        if (forward.RoundsOperands)
        {
            needs.Add((roundedGradient, geometry.OutputElements));
            if (options.Trainable)
            {
                needs.Add((roundedInput, geometry.InputElements));
            }
        }

        return needs;
    }

    /// <summary>
    /// Launches the pass for the forward call that read <paramref name="input"/>: the input gradient into
    /// <paramref name="inputGradient"/> when given, and the weight gradients into <paramref name="weights"/> when
    /// the layer is trainable (added to the stored ones when <paramref name="accumulate"/> and they exist).
    /// </summary>
    public void Run(
        LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, ArrayView<float> input, ArrayView<float> outputGradient, ArrayView<float>? inputGradient, bool accumulate)
    {
        if (device.Launcher.UsesPointers)
        {
            Run<PointerMemory>(weights, geometry, p, input, outputGradient, inputGradient, accumulate);
        }
        else
        {
            Run<ViewMemory>(weights, geometry, p, input, outputGradient, inputGradient, accumulate);
        }
    }

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

    /// <summary>How one call reduces the weight gradients on <paramref name="route"/>, decided before anything is allocated or launched.</summary>
    private Plan PlanFor(ProgramRoute route, LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, bool accumulate)
    {
        var options = forward.Options;
        bool accumulateNow = accumulate && weights.HasGradients;
        var biasChunks = options.UseBias
            ? ChunkPlan.For(geometry.Batch * geometry.OutputHeight, geometry.OutputWidth, geometry.Filters, device.Launcher.ReductionThreads, Launcher.SingleChunkBiasTerms)
            : ChunkPlan.None;

        // One part each and nothing to add: the partial sums are the gradients, with no finishing launch.
        bool direct = route.Splits == 1 && biasChunks.Count <= 1 && options.KernelRegularizer is null && options.BiasRegularizer is null && !accumulateNow;

        // The direct program sums kernel and bias in one launch when both take the same operands; the bias runs alone
        // after the tiled or depthwise program or when the kernel's operands are rounded.
        // (and when padding adds rows before the full result: the kernel's programs see the interior, the bias the whole).
        bool biasAlone = route.Family != ProgramFamily.Direct || forward.RoundsOperands || p.HasLeadingBorder;
        return new Plan(route, biasChunks, accumulateNow, direct, biasAlone, weights.KernelShape.ElementCount, geometry.Filters);
    }

    private void Run<TMem>(
        LayerWeights weights, Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p, ArrayView<float> input, ArrayView<float> outputGradient, ArrayView<float>? inputGradient, bool accumulate)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        var options = forward.Options;
        var launcher = device.Launcher;
        var stream = device.Accelerator.DefaultStream;
        var context = RouteContext.Of(device, options.Precision);
        var sizes = ConvolutionSizes(geometry, p);

        // The gradient at the pre-activation; the output gradient itself when the activation is linear.
        var dz = forward.NeedsPreActivation ? preActivationGradient.Get(geometry.OutputElements) : outputGradient;
        if (forward.NeedsPreActivation)
        {
            var activity = options.ActivityRegularizer;
            var penalty = activity is null ? default : new ActivityPenalty(activity.L1 / geometry.Batch, activity.L2 / geometry.Batch);
            forward.Epilogue.Gradient(launcher, stream, ForwardPass.LastAxisOf(geometry), penalty, TMem.Bind(outputGradient), TMem.Bind(forward.PreActivation(geometry.OutputElements)), TMem.Bind(dz));
        }

        // The convolutions' operand; with TF32 rounded, while the bias gradient keeps the float32 gradient.
        bool rounds = forward.RoundsOperands;
        var dzOperand = rounds ? TensorFloat32Operands.Round<TMem>(launcher, stream, dz, roundedGradient.Get(geometry.OutputElements)) : dz;
        var dzInterior = ForwardTensors.Tail(dzOperand, sizes.OutputOffset); // where the convolutions' output gradient starts

        if (inputGradient is ArrayView<float> dx)
        {
            var inputGradientLayout = layout.Get(p.InputGradientLayoutLength * p.Groups);
            if (layoutVersion != weights.Version)
            {
                launcher.Launch(stream, new InputGradientLayoutProgram<TMem>(p, TMem.Bind(weights.Kernel.View), TMem.Bind(inputGradientLayout)));

                if (rounds)
                {
                    TensorFloat32Operands.Round<TMem>(launcher, stream, inputGradientLayout, inputGradientLayout);
                }

                layoutVersion = weights.Version;
            }

            var route = ProgramRoutes.InputGradient(
                context,
                sizes,
                () => finiteness.AllFinite<TMem>(weights, stream),
                candidate => LaunchInputGradient<TMem>(launcher, stream, sizes, candidate, dzInterior, inputGradientLayout, dx));
            LaunchInputGradient<TMem>(launcher, stream, sizes, route, dzInterior, inputGradientLayout, dx);
            LastInputGradientRoute = route.AsRun(launcher.TensorCoreFailure);
        }

        if (!options.Trainable)
        {
            return;
        }

        var inputOperand = rounds ? TensorFloat32Operands.Round<TMem>(launcher, stream, input, roundedInput.Get(geometry.InputElements)) : input;
        var whole = p;
        var kernelRoute = ProgramRoutes.KernelGradient(
            context,
            sizes,
            candidate =>
            {
                // Into the partial sums (grown for the largest candidate), which the chosen route's own launch overwrites.
                var trial = PlanFor(candidate, weights, geometry, whole, accumulate);
                LaunchWeightGradients<TMem>(launcher, stream, sizes, whole, trial, inputOperand, dz, dzInterior, kernelPartials.Get(trial.KernelSumsLength), biasPartials.Get(trial.BiasSumsLength));
            });
        var plan = PlanFor(kernelRoute, weights, geometry, p, accumulate);
        var kernelSums = plan.Direct ? weights.KernelGradient.View : kernelPartials.Get(plan.KernelSumsLength);
        var biasSums = plan.Direct ? weights.BiasGradient.View : biasPartials.Get(plan.BiasSumsLength);
        LaunchWeightGradients<TMem>(launcher, stream, sizes, p, plan, inputOperand, dz, dzInterior, kernelSums, biasSums);
        LastKernelGradientRoute = kernelRoute.AsRun(launcher.TensorCoreFailure);

        if (!plan.Direct)
        {
            var kernelPenalty = options.KernelRegularizer;
            var biasPenalty = options.BiasRegularizer;
            launcher.Launch(stream, new GradientFinishProgram<TMem>(
                new GradientFinish((int)plan.KernelElements, plan.Route.Splits, kernelPenalty?.L1 ?? 0f, kernelPenalty?.L2 ?? 0f, plan.AccumulateNow),
                new GradientFinish(plan.BiasChunks.Count == 0 ? 0 : geometry.Filters, plan.BiasChunks.Count, biasPenalty?.L1 ?? 0f, biasPenalty?.L2 ?? 0f, plan.AccumulateNow),
                TMem.Bind(kernelSums), TMem.Bind(weights.Kernel.View), TMem.Bind(weights.KernelGradient.View),
                TMem.Bind(biasSums), TMem.Bind(weights.Bias.View), TMem.Bind(weights.BiasGradient.View)));
        }

        weights.HasGradients = true;
    }

    /// <summary>The input-gradient program of the route: the direct (or depthwise) one for all groups at once, the tiled one per group.</summary>
    private static void LaunchInputGradient<TMem>(
        Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, ProgramRoute route, ArrayView<float> dz, ArrayView<float> layout, ArrayView<float> dx)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        switch (route.Family)
        {
            case ProgramFamily.Depthwise:
                launcher.Launch(stream, new DepthwiseInputGradientProgram<TMem>(p, TMem.Bind(dz), TMem.Bind(layout), TMem.Bind(dx)));
                break;
            case ProgramFamily.Direct:
                launcher.Launch(stream, new InputGradientProgram<TMem>(p, TMem.Bind(dz), TMem.Bind(layout), TMem.Bind(dx)));
                break;
            default:
                for (int group = 0; group < p.Groups; group++)
                {
                    var (groupDz, groupLayout, groupDx) = (ForwardTensors.Tail(dz, p.OutputGroupOffset(group)), ForwardTensors.Tail(layout, group * p.InputGradientLayoutLength), ForwardTensors.Tail(dx, p.InputGroupOffset(group)));
                    if (InputGradientTiledProgram.ContiguousRuns(p, groupDz))
                    {
                        launcher.LaunchTiled(stream, new InputGradientTiledProgram<ContiguousRuns>(p, route.Tile!.Value, groupDz, groupLayout, groupDx), route.TensorCores);
                    }
                    else
                    {
                        launcher.LaunchTiled(stream, new InputGradientTiledProgram<StridedRuns>(p, route.Tile!.Value, groupDz, groupLayout, groupDx), route.TensorCores);
                    }
                }

                break;
        }
    }

    /// <summary>The sizes the convolution programs see: the call's, or their interior where padding adds rows before the full result.</summary>
    private static Conv2DTransposeParams ConvolutionSizes(Conv2DTransposeGeometry geometry, in Conv2DTransposeParams p) =>
        p.HasLeadingBorder ? new Conv2DTransposeParams(geometry, interior: true) : p;

    /// <summary>
    /// The kernel- and bias-gradient programs of a plan into its sums: the route's kernel program on the convolution's
    /// sizes <paramref name="p"/> and output gradient <paramref name="dzOperand"/> (the direct one sums the bias too unless
    /// it runs alone), then the bias alone over all filters of the <paramref name="whole"/> output gradient where needed.
    /// </summary>
    private static void LaunchWeightGradients<TMem>(
        Launcher launcher, AcceleratorStream stream, in Conv2DTransposeParams p, in Conv2DTransposeParams whole, in Plan plan, ArrayView<float> input, ArrayView<float> dz, ArrayView<float> dzOperand, ArrayView<float> kernelSums, ArrayView<float> biasSums)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        var route = plan.Route;
        switch (route.Family)
        {
            case ProgramFamily.Depthwise:
                launcher.Launch(stream, new DepthwiseKernelGradientProgram<TMem>(p, route.Chunks, TMem.Bind(input), TMem.Bind(dzOperand), TMem.Bind(kernelSums)));
                break;
            case ProgramFamily.Direct:
                launcher.Launch(stream, new WeightGradientProgram<TMem>(
                    p, route.Chunks, plan.BiasAlone ? ChunkPlan.None : plan.BiasChunks, TMem.Bind(input), TMem.Bind(dzOperand), TMem.Bind(kernelSums), TMem.Bind(biasSums)));
                break;
            default:
                // Once per group, on its input channels and filters and its channels of the kernel sums (innermost).
                for (int group = 0; group < p.Groups; group++)
                {
                    var (groupX, groupDz, sums) = (ForwardTensors.Tail(input, p.InputGroupOffset(group)), ForwardTensors.Tail(dzOperand, p.OutputGroupOffset(group)), ForwardTensors.Tail(kernelSums, (long)group * p.InChannels));
                    if (KernelGradientTiledProgram.ContiguousRuns(p, groupX, groupDz))
                    {
                        launcher.LaunchTiled(stream, new KernelGradientTiledProgram<ContiguousRuns>(p, route.Tile!.Value, route.Splits, groupX, groupDz, sums), route.TensorCores);
                    }
                    else
                    {
                        launcher.LaunchTiled(stream, new KernelGradientTiledProgram<StridedRuns>(p, route.Tile!.Value, route.Splits, groupX, groupDz, sums), route.TensorCores);
                    }
                }

                break;
        }

        if (plan.BiasAlone && plan.BiasChunks.Count > 0)
        {
            // The bias sums run over all filters at once, on the float32 gradient; the kernel's operands are not read.
            launcher.Launch(stream, new WeightGradientProgram<TMem>(
                whole, ChunkPlan.None, plan.BiasChunks, TMem.Bind(input), TMem.Bind(dz), TMem.Bind(kernelSums), TMem.Bind(biasSums)));
        }
    }

    /// <summary>How one call reduces the weight gradients: the kernel's route (with its parts), the bias's chunks, and whether a finishing launch adds them.</summary>
    /// <param name="Route">The kernel gradient's route; its <see cref="ProgramRoute.Splits"/> are the kernel's parts.</param>
    /// <param name="BiasChunks">The bias gradient's chunks.</param>
    /// <param name="AccumulateNow">Whether the gradients are added to the stored ones.</param>
    /// <param name="Direct">Whether the sums are the gradients themselves (one part each, nothing to add or penalise).</param>
    /// <param name="BiasAlone">Whether the bias gradient runs as a launch of its own.</param>
    /// <param name="KernelElements">The kernel's elements.</param>
    /// <param name="Filters">The filters (the bias's elements).</param>
    private readonly record struct Plan(ProgramRoute Route, ChunkPlan BiasChunks, bool AccumulateNow, bool Direct, bool BiasAlone, long KernelElements, int Filters)
    {
        /// <summary>Gets the length of the kernel's partial sums, <c>[parts, kh, kw, F, C]</c>.</summary>
        public long KernelSumsLength => Route.Splits * KernelElements;

        /// <summary>Gets the length of the bias's partial sums, <c>[chunks, F]</c> (at least one element).</summary>
        public long BiasSumsLength => Math.Max(1, (long)BiasChunks.Count * Filters);
    }
}
