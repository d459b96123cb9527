using System;

namespace ILGpuDeconv.Programs;

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

    /// <summary>The fewest terms a chunk sums: below that, its partial sum costs more to store and add than it saves.</summary>
    public const long MinTermsPerChunk = 512;

    /// <summary>
    /// Splits <paramref name="rows"/> (of <paramref name="rowLength"/> terms each) so that about
    /// <paramref name="targetThreads"/> threads run in all, each chunk summing at least
    /// <see cref="MinTermsPerChunk"/> terms. A reduction of at most <paramref name="oneThreadTerms"/>
    /// terms stays in one chunk: splitting it would cost a second launch for nothing.
    /// </summary>
    public static ChunkPlan For(int rows, long rowLength, long threadsPerChunk, long targetThreads, long oneThreadTerms)
    {
        if ((long)rows * rowLength <= oneThreadTerms)
        {
            return new ChunkPlan(1, rows);
        }

        long wanted = Math.Max(1, Math.Min(targetThreads / Math.Max(1, threadsPerChunk), (long)rows * rowLength / MinTermsPerChunk));
        int count = (int)Math.Min(Math.Min(wanted, rows), 4096);
        return new ChunkPlan(Math.Max(1, count), rows);
    }

    /// <summary>Gets a plan of no chunks: nothing to reduce (a layer without bias).</summary>
    public static ChunkPlan None => new(0, 0);

    public int Start(int chunk) => (int)((long)chunk * Rows / Count);

    public int End(int chunk) => (int)((long)(chunk + 1) * Rows / Count);
}
