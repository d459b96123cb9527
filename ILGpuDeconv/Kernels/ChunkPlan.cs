using System;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// How a long reduction (over rows) is split into chunks whose partial sums are added afterwards in a
/// fixed order. The split depends only on the sizes and the accelerator kind, so results are bitwise
/// reproducible on one accelerator.
/// </summary>
internal readonly struct ChunkPlan
{
    public readonly int Count;
    public readonly int Rows;

    private ChunkPlan(int count, int rows)
    {
        Count = count;
        Rows = rows;
    }

    /// <summary>Splits <paramref name="rows"/> so that about <paramref name="targetThreads"/> threads run in all.</summary>
    public static ChunkPlan For(int rows, long threadsPerChunk, long targetThreads)
    {
        long wanted = Math.Max(1, targetThreads / Math.Max(1, threadsPerChunk));
        int count = (int)Math.Min(Math.Min(wanted, rows), 4096);
        return new ChunkPlan(Math.Max(1, count), rows);
    }

    public int Start(int chunk) => (int)((long)chunk * Rows / Count);

    public int End(int chunk) => (int)((long)(chunk + 1) * Rows / Count);
}
