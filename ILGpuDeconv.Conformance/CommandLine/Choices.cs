using System;
using System.Collections.Generic;
using System.Linq;

namespace ILGpuDeconv.Conformance.CommandLine;

/// <summary>
/// The words both command lines (the <c>ilgpudeconv</c> tool and the benchmark harness) take for accelerators,
/// passes, algorithms and precisions, parsed in this one place.
/// </summary>
public static class Choices
{
    /// <summary>Gets the command-line name of a pass: <c>forward</c>, <c>input_grad</c> or <c>kernel_grad</c> (TensorFlow's words, and the JSON the harness writes).</summary>
    /// <param name="pass">The pass.</param>
    /// <returns>The name.</returns>
    public static string NameOf(ConvolutionPass pass) => pass switch
    {
        ConvolutionPass.Forward => "forward",
        ConvolutionPass.InputGradient => "input_grad",
        _ => "kernel_grad",
    };

    /// <summary>Parses one pass name (see <see cref="NameOf(ConvolutionPass)"/>).</summary>
    /// <param name="name">The name.</param>
    /// <returns>The pass.</returns>
    /// <exception cref="ArgumentException">The name is none of the three.</exception>
    public static ConvolutionPass Pass(string name) => (name ?? throw new ArgumentNullException(nameof(name))).Trim() switch
    {
        "forward" => ConvolutionPass.Forward,
        "input_grad" => ConvolutionPass.InputGradient,
        "kernel_grad" => ConvolutionPass.KernelGradient,
        _ => throw new ArgumentException($"unknown pass '{name}': forward, input_grad, kernel_grad"),
    };

    /// <summary>Parses a comma-separated list of passes; null gives all three.</summary>
    /// <param name="list">The list, or null.</param>
    /// <returns>The passes.</returns>
    public static IReadOnlyList<ConvolutionPass> Passes(string? list) =>
        list is null ? Enum.GetValues<ConvolutionPass>() : [.. Items(list).Select(Pass)];

    /// <summary>Parses <c>--algorithms</c>: a list of <c>auto</c>, <c>direct</c>, <c>tiled</c>, <c>tuned</c>; null gives <c>auto</c>.</summary>
    /// <param name="list">The list, or null.</param>
    /// <returns>The algorithms.</returns>
    public static IReadOnlyList<ConvolutionAlgorithm> Algorithms(string? list) =>
        [.. Items(list ?? "auto").Select(a => a.ToUpperInvariant() switch
        {
            "AUTO" => ConvolutionAlgorithm.Auto,
            "DIRECT" => ConvolutionAlgorithm.Direct,
            "TILED" => ConvolutionAlgorithm.TiledGemm,
            "TUNED" => ConvolutionAlgorithm.Tuned,
            _ => throw new ArgumentException($"--algorithms takes auto, direct, tiled and tuned (a list), not {a}"),
        })];

    /// <summary>Gets the command-line name of an algorithm (see <see cref="Algorithms"/>).</summary>
    /// <param name="algorithm">The algorithm.</param>
    /// <returns>The name.</returns>
    public static string NameOf(ConvolutionAlgorithm algorithm) => algorithm switch
    {
        ConvolutionAlgorithm.TiledGemm => "tiled",
        _ => algorithm.ToString().ToLowerInvariant(),
    };

    /// <summary>Parses <c>--precisions</c>: a list of <c>fp32</c> and <c>tf32</c>.</summary>
    /// <param name="list">The list.</param>
    /// <returns>The precisions.</returns>
    public static IReadOnlyList<ConvolutionPrecision> Precisions(string list) =>
        [.. Items(list ?? throw new ArgumentNullException(nameof(list))).Select(a => a.ToUpperInvariant() switch
        {
            "FP32" => ConvolutionPrecision.Float32,
            "TF32" => ConvolutionPrecision.TensorFloat32,
            _ => throw new ArgumentException($"--precisions takes fp32 and tf32 (a list), not {a}"),
        })];

    /// <summary>
    /// Parses <c>--accelerator</c> as a list of kinds (<c>cpu</c>, <c>opencl</c>, <c>cuda</c>); null gives every kind
    /// ILGPU finds here, the CPU accelerator first.
    /// </summary>
    /// <param name="list">The list, or null.</param>
    /// <returns>The kinds, each once.</returns>
    public static IReadOnlyList<AcceleratorKind> Accelerators(string? list) => list is null
        ? [.. DeconvDevice.ListAccelerators().Select(i => i.Kind).Distinct().Reverse()]
        : [.. Items(list).Select(name => DeconvDevice.ParseKind(name, "--accelerator")
            ?? throw new ArgumentException("--accelerator takes cpu, opencl or cuda (a list), not auto")).Distinct()];

    /// <summary>Gets the command-line name of an accelerator kind: <c>cpu</c>, <c>opencl</c> or <c>cuda</c> (see <see cref="Accelerators"/>).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The name.</returns>
    public static string NameOf(AcceleratorKind kind) => kind.ToString().ToLowerInvariant();

    private static string[] Items(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>The exit statuses both command lines share.</summary>
public static class CommandLineExit
{
    /// <summary>A check failed.</summary>
    public const int CheckFailed = 1;

    /// <summary>Bad arguments or a malformed input file.</summary>
    public const int BadInput = 2;

    /// <summary>The accelerator asked for is not on this machine.</summary>
    public const int MissingAccelerator = 3;
}
