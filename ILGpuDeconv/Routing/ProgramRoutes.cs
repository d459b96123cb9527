using System;
using System.Collections.Generic;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;

namespace ILGpuDeconv.Routing;

/// <summary>
/// What the routing rules read from a device: its kind, whether it runs the tiled programs and tensor cores,
/// and its size. A value, so the rules can be listed for devices that are not on this machine (the table test).
/// </summary>
/// <param name="Kind">The accelerator kind.</param>
/// <param name="SupportsTiled">Whether the accelerator has the tiled programs' 256-thread groups and shared memory.</param>
/// <param name="TensorCores">Whether TF32 layers may run the tensor-core loops (CUDA cc 8.0+, or their emulation in tests).</param>
/// <param name="TensorCoreFailure">Why the tensor-core loops failed to compile or load on this device, or null.</param>
/// <param name="Multiprocessors">The multiprocessors (compute units, cores) a tiled launch aims to fill.</param>
/// <param name="ReductionThreads">The threads a direct program's reduction split into chunks aims for.</param>
internal readonly record struct DeviceTraits(
    AcceleratorKind Kind, bool SupportsTiled, bool TensorCores, string? TensorCoreFailure, int Multiprocessors, long ReductionThreads)
{
    /// <summary>The traits of a device, as its launcher reports them now.</summary>
    public static DeviceTraits Of(DeconvDevice device) => new(
        device.Kind,
        device.Launcher.SupportsTiled,
        device.UsesTensorCores,
        device.Launcher.TensorCoreFailure,
        device.Launcher.Multiprocessors,
        device.Launcher.ReductionThreads);
}

/// <summary>
/// The one place that decides which GPU program computes each pass: one function per pass
/// (<see cref="Forward"/>, <see cref="InputGradient"/>, <see cref="KernelGradient"/>) from the device's traits, the
/// algorithm asked for, the layer's sizes, its precision and its weights' finiteness. With
/// <see cref="ConvolutionAlgorithm.Tuned"/> the same functions return the measured route for the call's key, measuring
/// every candidate (<see cref="Candidates"/>) on the first call; the passes only switch on the answer.
/// </summary>
internal static class ProgramRoutes
{
    /// <summary>
    /// The route of the forward pass. <paramref name="finite"/> is asked only when a tiled route is in question (it
    /// may read a flag back from the device); <paramref name="measure"/> runs one candidate, for a measured choice.
    /// </summary>
    public static ProgramRoute Forward(in RouteContext context, in Conv2DTransposeParams p, Func<bool> finite, Action<ProgramRoute>? measure = null) =>
        Route(ConvolutionPass.Forward, context, p, finite, measure);

    /// <summary>The route of the input gradient (as <see cref="Forward"/>: the tiled programs need finite weights).</summary>
    public static ProgramRoute InputGradient(in RouteContext context, in Conv2DTransposeParams p, Func<bool> finite, Action<ProgramRoute>? measure = null) =>
        Route(ConvolutionPass.InputGradient, context, p, finite, measure);

    /// <summary>The route of the kernel gradient, with the split of its reduction (the tiled program forms no product with padding, so any weights).</summary>
    public static ProgramRoute KernelGradient(in RouteContext context, in Conv2DTransposeParams p, Action<ProgramRoute>? measure = null) =>
        Route(ConvolutionPass.KernelGradient, context, p, static () => true, measure);

    /// <summary>
    /// Every route that may compute <paramref name="pass"/> on this device, for a measured choice: the direct (or
    /// depthwise) programs, and, where the device runs them and the weights allow, the tiled programs in every block
    /// tile, with and without tensor cores where TF32 may use them.
    /// </summary>
    public static IReadOnlyList<ProgramRoute> Candidates(ConvolutionPass pass, in RouteContext context, in Conv2DTransposeParams p, Func<bool> finite)
    {
        var device = context.Device;
        var routes = new List<ProgramRoute> { DirectRoute(pass, device, p, RouteOrigin.Measurement, "candidate") };
        if (!device.SupportsTiled || (pass != ConvolutionPass.KernelGradient && !finite()))
        {
            return routes;
        }

        foreach (var shape in TiledGemm.Shapes)
        {
            int splits = pass == ConvolutionPass.KernelGradient ? TileChoice.KernelGradientSplits(p, shape, device.Multiprocessors) : 1;
            routes.Add(new ProgramRoute(pass, ProgramFamily.Tiled, shape, splits, tensorCores: false, RouteOrigin.Measurement, "candidate"));
            if (TensorCoresFor(context) is null)
            {
                routes.Add(new ProgramRoute(pass, ProgramFamily.Tiled, shape, splits, tensorCores: true, RouteOrigin.Measurement, "candidate"));
            }
        }

        return routes;
    }

    /// <summary>
    /// The candidates a call will measure before it runs (so that the caller provides the scratch space of each), or
    /// null when the route is known without a measurement. For the kernel gradient, whose routes need no weight check.
    /// </summary>
    public static IReadOnlyList<ProgramRoute>? PendingKernelGradientCandidates(in RouteContext context, in Conv2DTransposeParams p)
    {
        if (context.Algorithm != ConvolutionAlgorithm.Tuned || context.Tuning is not { } tuning)
        {
            return null;
        }

        var candidates = Candidates(ConvolutionPass.KernelGradient, context, p, static () => true);
        return candidates.Count > 1 && !tuning.Knows(KeyOf(ConvolutionPass.KernelGradient, p, context.Precision), candidates) ? candidates : null;
    }

    /// <summary>The key of a measured choice: the pass, every size the programs see (data format and groups among them) and the precision.</summary>
    public static string KeyOf(ConvolutionPass pass, in Conv2DTransposeParams p, ConvolutionPrecision precision) => string.Create(
        System.Globalization.CultureInfo.InvariantCulture,
        $"{pass} n{p.Batch} in{p.InHeight}x{p.InWidth}x{p.KernelChannels} out{p.OutHeight}x{p.OutWidth}x{p.BiasStride} k{p.KernelHeight}x{p.KernelWidth} "
        + $"s{p.StrideH}x{p.StrideW} d{p.DilationH}x{p.DilationW} crop{p.CropTop}x{p.CropLeft} g{p.Groups} {(p.XC == 1 ? "channels_last" : "channels_first")} {precision}");

    private static ProgramRoute Route(ConvolutionPass pass, in RouteContext context, in Conv2DTransposeParams p, Func<bool> finite, Action<ProgramRoute>? measure)
    {
        if (context.Algorithm == ConvolutionAlgorithm.Tuned && context.Tuning is { } tuning)
        {
            var candidates = Candidates(pass, context, p, finite);
            if (candidates.Count > 1 && measure is not null)
            {
                return tuning.Choose(KeyOf(pass, p, context.Precision), candidates, measure);
            }

            if (candidates.Count == 1)
            {
                return candidates[0].With(RouteOrigin.Rule, $"Tuned: the only route here ({WhyOnlyDirect(pass, context.Device, finite)})");
            }
        }

        var (tiled, why) = TiledByRule(context, p);
        if (tiled && pass != ConvolutionPass.KernelGradient && !finite())
        {
            (tiled, why) = (false, "a weight is infinite or NaN: the tiled programs would multiply padding zeros by it, the direct ones form only TensorFlow's products");
        }

        if (!tiled)
        {
            return DirectRoute(pass, context.Device, p, RouteOrigin.Rule, why);
        }

        var device = context.Device;
        TileShape shape;
        int splits = 1;
        switch (pass)
        {
            case ConvolutionPass.Forward:
                var (rows, columns, problems) = ForwardTiledProgram.GemmSize(p);
                shape = TileChoice.For(rows, columns, problems, device.Multiprocessors);
                break;
            case ConvolutionPass.InputGradient:
                var (inputRows, channels, _) = InputGradientTiledProgram.GemmSize(p);
                shape = TileChoice.For(inputRows, channels, 1, device.Multiprocessors);
                break;
            default:
                (shape, splits) = TileChoice.ForKernelGradient(p, device.Multiprocessors);
                break;
        }

        string? noTensorCores = TensorCoresFor(context);
        return new ProgramRoute(pass, ProgramFamily.Tiled, shape, splits, noTensorCores is null, RouteOrigin.Rule, noTensorCores is null || context.Precision != ConvolutionPrecision.TensorFloat32 ? why : $"{why}; {noTensorCores}");
    }

    /// <summary>The direct family's route: depthwise programs for one input channel per group; the kernel gradient's chunks.</summary>
    private static ProgramRoute DirectRoute(ConvolutionPass pass, in DeviceTraits device, in Conv2DTransposeParams p, RouteOrigin origin, string why)
    {
        var family = p.IsDepthwise ? ProgramFamily.Depthwise : ProgramFamily.Direct;
        if (pass != ConvolutionPass.KernelGradient)
        {
            return new ProgramRoute(pass, family, null, 1, false, origin, why);
        }

        var chunks = ChunkPlan.For(
            p.Batch * p.InHeight,
            p.InWidth,
            p.IsDepthwise ? p.DepthwiseKernelGradientItemsPerChunk : p.KernelGradientItemsPerChunk,
            device.ReductionThreads,
            oneThreadTerms: 0);
        return new ProgramRoute(pass, family, null, chunks.Count, false, origin, why) { Chunks = chunks };
    }

    /// <summary>Whether the rules pick the tiled programs, and why.</summary>
    private static (bool Tiled, string Why) TiledByRule(in RouteContext context, in Conv2DTransposeParams p)
    {
        var device = context.Device;
        switch (context.Algorithm)
        {
            case ConvolutionAlgorithm.Direct:
                return (false, "Algorithm = Direct");
            case ConvolutionAlgorithm.TiledGemm:
                return (true, "Algorithm = TiledGemm");
        }

        string mode = context.Algorithm == ConvolutionAlgorithm.Tuned ? "Tuned without a measurement, so Auto's rule" : "Auto";
        if (device.Kind != AcceleratorKind.Cuda)
        {
            return (false, $"{mode}: the direct programs on {device.Kind}, whose CPU devices run them faster");
        }

        if (!device.SupportsTiled)
        {
            return (false, $"{mode}: this CUDA device has no 256-thread groups with the tiled programs' shared memory");
        }

        if (p.Groups > 1 && Math.Min(p.InChannels, p.Filters) < DeconvDevice.TiledGroupMinimum)
        {
            return (false, $"{mode}: groups of {p.InChannels} channels and {p.Filters} filters, below {DeconvDevice.TiledGroupMinimum}, would leave most of a tile empty");
        }

        return (true, $"{mode}: the tiled programs on CUDA");
    }

    /// <summary>
    /// Null when the tiled programs run on tensor cores for this context; otherwise why not. In every block tile: by the
    /// issue-slot model (tools/gpu/issue_slots.py, ptxas 11.8 for sm_90) each tensor-core loop's ceiling is at least
    /// twice its float32 loop's (2.4x to 2.8x at 64x64, 3.2x to 4.2x on the 64-wide tiles, 5.1x to 6.1x at 128x128; strided runs at the low end), so
    /// there is no tile where TF32 is better off on the SIMT loops. A tile where that stops holding needs its own rule.
    /// </summary>
    private static string? TensorCoresFor(in RouteContext context) =>
        context.Precision != ConvolutionPrecision.TensorFloat32 ? "float32"
        : context.Device.TensorCoreFailure is { } failure ? $"TF32 on the SIMT loops: the tensor-core loops failed here ({failure})"
        : !context.Device.TensorCores ? "TF32 emulated: operands rounded, float32 loops (no tensor cores here)"
        : null;

    private static string WhyOnlyDirect(ConvolutionPass pass, in DeviceTraits device, Func<bool> finite) =>
        !device.SupportsTiled ? $"{device.Kind} has no 256-thread groups for the tiled programs"
        : pass != ConvolutionPass.KernelGradient && !finite() ? "a weight is infinite or NaN, which the tiled programs cannot take"
        : "no tiled candidate";
}

/// <summary>What a route is decided from, besides the layer's sizes: the device, the algorithm asked for, the precision, and the measurements.</summary>
internal readonly record struct RouteContext(DeviceTraits Device, ConvolutionAlgorithm Algorithm, ConvolutionPrecision Precision, ConvolutionTuning? Tuning)
{
    /// <summary>The context of a layer of <paramref name="precision"/> on <paramref name="device"/> now.</summary>
    public static RouteContext Of(DeconvDevice device, ConvolutionPrecision precision) =>
        new(DeviceTraits.Of(device), device.Algorithm, precision, device.Tuning);
}
