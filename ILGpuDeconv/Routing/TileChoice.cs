using System;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;

namespace ILGpuDeconv.Routing;

/// <summary>
/// Picks the block tile and the reduction split of a tiled launch from the GEMM's size and the number of
/// multiprocessors: the largest tile that still gives every multiprocessor work, and for the kernel
/// gradient (few outputs, a long reduction) enough splits to fill the machine.
/// </summary>
internal static class TileChoice
{
    /// <summary>Groups a launch aims for per multiprocessor: two resident groups, twice over for the tail.</summary>
    public const int GroupsPerMultiprocessor = 4;

    /// <summary>The fewest slices (of 16 terms) a split of the kernel gradient's reduction sums.</summary>
    public const int MinSlicesPerSplit = 2;

    /// <summary>The most partial-sum elements the kernel gradient's splits may hold (256 MiB of floats).</summary>
    public const long MaxPartialElements = 1L << 26;

    /// <summary>The tile for a GEMM of <paramref name="rows"/> x <paramref name="columns"/>, <paramref name="problems"/> times.</summary>
    public static TileShape For(long rows, int columns, int problems, int multiprocessors)
    {
        var wide = Fitting(TiledGemm.LargeSide, columns);
        long tallGroups = ((rows + TiledGemm.LargeSide - 1) / TiledGemm.LargeSide) * ((columns + TiledGemm.Columns(wide) - 1) / TiledGemm.Columns(wide)) * problems;
        bool tall = rows > TiledGemm.SmallSide && tallGroups >= 2L * multiprocessors;
        return TiledGemm.Shape(tall ? TiledGemm.LargeSide : TiledGemm.SmallSide, TiledGemm.Columns(wide));
    }

    /// <summary>The tile and the number of reduction splits of the kernel gradient.</summary>
    public static (TileShape Shape, int Splits) ForKernelGradient(in Conv2DTransposeParams p, int multiprocessors)
    {
        // The outputs are only filters x channels per tap; the splits fill the machine, so the tile only
        // follows the GEMM's size. With strided runs (NCHW, or channels or filters not a multiple of 4) the largest
        // tile's float32 loop spills (88 bytes under ptxas 11.8 for sm_90: tools/gpu/ptx-report.sh), so such layers
        // take the next one.
        var shape = Fitting(p.Filters, p.InChannels);
        if (shape == TiledGemm.Shape(TiledGemm.LargeSide, TiledGemm.LargeSide) && !KernelGradientTiledProgram.ContiguousRunsFit(p))
        {
            shape = TiledGemm.Shape(TiledGemm.LargeSide, TiledGemm.SmallSide);
        }

        return (shape, KernelGradientSplits(p, shape, multiprocessors));
    }

    /// <summary>
    /// The splits of the kernel gradient's reduction in a tile: enough to fill the machine and to keep each float
    /// sum at most <see cref="KernelGradientTiledProgram.MaxSlicesPerSplit"/> slices long, within the partial sums' memory.
    /// </summary>
    public static int KernelGradientSplits(in Conv2DTransposeParams p, TileShape shape, int multiprocessors)
    {
        int slices = KernelGradientTiledProgram.MaxSlices(p);
        long groupsPerSplit = (long)((p.Filters + TiledGemm.Rows(shape) - 1) / TiledGemm.Rows(shape))
            * ((p.InChannels + TiledGemm.Columns(shape) - 1) / TiledGemm.Columns(shape)) * p.KernelTaps;
        long forAccuracy = (slices + KernelGradientTiledProgram.MaxSlicesPerSplit - 1) / KernelGradientTiledProgram.MaxSlicesPerSplit;
        long forOccupancy = ((long)GroupsPerMultiprocessor * multiprocessors + groupsPerSplit - 1) / groupsPerSplit;
        long splits = Math.Min(Math.Max(forAccuracy, forOccupancy), Math.Max(1, slices / MinSlicesPerSplit));
        long elements = (long)p.KernelTaps * p.Filters * p.KernelChannels; // the whole kernel, every group's
        splits = Math.Min(splits, Math.Max(1, MaxPartialElements / elements));
        splits = Math.Min(splits, ushort.MaxValue / p.KernelTaps); // the grid's third dimension
        return (int)Math.Max(1, splits);
    }

    /// <summary>The smallest tile in each direction that a GEMM of these sizes fills more than half of.</summary>
    private static TileShape Fitting(long rows, long columns) =>
        TiledGemm.Shape(rows > TiledGemm.SmallSide ? TiledGemm.LargeSide : TiledGemm.SmallSide, columns > TiledGemm.SmallSide ? TiledGemm.LargeSide : TiledGemm.SmallSide);
}
