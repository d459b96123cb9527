using System;
using System.Collections.Generic;
using System.Linq;

namespace ILGpuDeconv.Bench.Benchmarks;

/// <summary>A benchmark shape (channels last, float32): the layer and its input.</summary>
public sealed record BenchmarkShape(string Name, int Batch, int Height, int Width, int InChannels, int Filters, int Kernel, int Stride, Padding Padding, int Groups = 1)
{
    /// <summary>Gets the shapes of the performance issues: A to D at CPU scale, G1 to G5 at GPU scale, DW depthwise (groups = channels).</summary>
    public static IReadOnlyList<BenchmarkShape> All { get; } =
    [
        new("A", 16, 8, 8, 256, 128, 4, 2, Padding.Same),
        new("B", 16, 32, 32, 64, 3, 4, 2, Padding.Same),
        new("C", 4, 32, 32, 128, 64, 2, 2, Padding.Valid),
        new("D", 8, 15, 15, 16, 8, 3, 2, Padding.Valid),
        new("G1", 128, 4, 4, 512, 256, 4, 2, Padding.Same),
        new("G2", 128, 16, 16, 128, 64, 4, 2, Padding.Same),
        new("G3", 128, 32, 32, 64, 3, 4, 2, Padding.Same),
        new("G4", 16, 64, 64, 256, 128, 2, 2, Padding.Valid),
        new("G5", 32, 15, 15, 64, 32, 3, 2, Padding.Valid),
        new("DW", 16, 32, 32, 256, 256, 4, 2, Padding.Same, Groups: 256),
    ];

    /// <summary>Gets a value indicating whether this is a GPU-scale shape (G1 to G5).</summary>
    public bool GpuScale => Name.StartsWith('G');

    /// <summary>Gets the layer's options, with seeded weights.</summary>
    public Conv2DTransposeOptions Options => new(Filters, Kernel)
    {
        Strides = Stride,
        Padding = Padding,
        KernelInitializer = Initializer.GlorotUniform(seed: 1),
        BiasInitializer = Initializer.RandomUniform(seed: 2),
        Groups = Groups,
    };

    /// <summary>Gets the input shape, NHWC.</summary>
    public TensorShape InputShape => new(Batch, Height, Width, InChannels);

    /// <summary>Gets the work of one pass: <c>2 * N * H * W * Cin * Cout * kh * kw / groups</c>, H and W the input size.</summary>
    public double Flops => 2.0 * Batch * Height * Width * InChannels * Filters * Kernel * Kernel / Groups;

    /// <summary>Finds shapes by name (case-insensitive).</summary>
    public static IReadOnlyList<BenchmarkShape> Parse(string list) =>
        list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => All.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw new ArgumentException($"unknown shape '{name}'; known: {string.Join(", ", All.Select(s => s.Name))}"))
            .ToList();

    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name}: N{Batch} {Height}x{Width} {InChannels}->{Filters} k{Kernel} s{Stride} {Padding.ToKerasName()}{(Groups > 1 ? $" groups {Groups}" : string.Empty)}";
}
