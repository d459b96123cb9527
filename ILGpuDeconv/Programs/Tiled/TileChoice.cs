using System;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>
/// Picks the block tile and the reduction split of a tiled launch from the GEMM's size and the number of
/// multiprocessors: the largest tile that still gives every multiprocessor work, and for the kernel
/// gradient (few outputs, a long reduction) enough splits to fill the machine.
/// </summary>
internal static class TileChoice
{
    /// <summary>Groups a launch aims for per multiprocessor: two resident groups, twice over for the tail.</summary>
    public const int GroupsPerMultiprocessor = 4;

    /// <summary>The fewest slices a split of the kernel gradient's reduction sums.</summary>
    public const int MinSlicesPerSplit = 4;

    /// <summary>The most partial-sum elements the kernel gradient's splits may hold (256 MiB of floats).</summary>
    public const long MaxPartialElements = 1L << 26;

    /// <summary>The tile for a GEMM of <paramref name="rows"/> x <paramref name="columns"/>, <paramref name="problems"/> times.</summary>
    public static TileShape For(long rows, int columns, int problems, int multiprocessors)
    {
        bool wide = columns > 64;
        long columnTiles = (columns + (wide ? 127 : 63)) / (wide ? 128 : 64);
        long tallGroups = ((rows + 127) / 128) * columnTiles * problems;
        bool tall = rows > 64 && tallGroups >= 2L * multiprocessors;
        return (tall, wide) switch
        {
            (true, true) => TileShape.Tile128x128,
            (true, false) => TileShape.Tile128x64,
            (false, true) => TileShape.Tile64x128,
            _ => TileShape.Tile64x64,
        };
    }

    /// <summary>The tile and the number of reduction splits of the kernel gradient.</summary>
    public static (TileShape Shape, int Splits) ForKernelGradient(in Conv2DTransposeParams p, int multiprocessors)
    {
        // The outputs are only filters x channels per tap; the splits fill the machine, so the tile only
        // follows the GEMM's size.
        var shape = (p.Filters > 64, p.InChannels > 64) switch
        {
            (true, true) => TileShape.Tile128x128,
            (true, false) => TileShape.Tile128x64,
            (false, true) => TileShape.Tile64x128,
            _ => TileShape.Tile64x64,
        };

        int slices = KernelGradientTiledProgram.MaxSlices(p);
        long groupsPerSplit = (long)((p.Filters + TiledGemm.Rows(shape) - 1) / TiledGemm.Rows(shape))
            * ((p.InChannels + TiledGemm.Columns(shape) - 1) / TiledGemm.Columns(shape)) * p.KernelTaps;
        long forAccuracy = (slices + KernelGradientTiledProgram.MaxSlicesPerSplit - 1) / KernelGradientTiledProgram.MaxSlicesPerSplit;
        long forOccupancy = ((long)GroupsPerMultiprocessor * multiprocessors + groupsPerSplit - 1) / groupsPerSplit;
        long splits = Math.Min(Math.Max(forAccuracy, forOccupancy), Math.Max(1, slices / MinSlicesPerSplit));
        long elements = (long)p.KernelTaps * p.Filters * p.KernelChannels; // the whole kernel, every group's
        splits = Math.Min(splits, Math.Max(1, MaxPartialElements / elements));
        splits = Math.Min(splits, ushort.MaxValue / p.KernelTaps); // the grid's third dimension
        return (shape, (int)Math.Max(1, splits));
    }
}
