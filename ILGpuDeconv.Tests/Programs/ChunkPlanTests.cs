using System.Linq;
using ILGpuDeconv.Programs;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Programs;

/// <summary>The split of long reductions into chunks: every row in exactly one chunk, in order, and the size rules.</summary>
public sealed class ChunkPlanTests
{
    [TestCase(10, 1000L, 4L, 1000L)]
    [TestCase(7, 3L, 1L, 1_000_000L)]
    [TestCase(100_000, 64L, 16L, 8192L)]
    [TestCase(1, 1L, 1L, 1L)]
    public void Chunks_cover_every_row_once_in_order(int rows, long rowLength, long threadsPerChunk, long targetThreads)
    {
        var plan = ChunkPlan.For(rows, rowLength, threadsPerChunk, targetThreads, oneThreadTerms: 0);
        Assert.That(plan.Count, Is.InRange(1, 4096));
        Assert.That(plan.Start(0), Is.Zero);
        Assert.That(plan.End(plan.Count - 1), Is.EqualTo(rows));
        for (int chunk = 1; chunk < plan.Count; chunk++)
        {
            Assert.That(plan.Start(chunk), Is.EqualTo(plan.End(chunk - 1)), $"chunk {chunk} starts where {chunk - 1} ends");
        }

        Assert.That(Enumerable.Range(0, plan.Count).All(c => plan.End(c) > plan.Start(c)), "no empty chunk");
    }

    [Test]
    public void Every_chunk_sums_at_least_the_minimum_number_of_terms()
    {
        // 64 rows of 10 terms = 640 terms: at most one chunk of >= 512 terms, however many threads are wanted.
        var plan = ChunkPlan.For(64, 10, threadsPerChunk: 1, targetThreads: 1_000_000, oneThreadTerms: 0);
        Assert.That(plan.Count, Is.EqualTo(1));
        var larger = ChunkPlan.For(1024, 512, threadsPerChunk: 1, targetThreads: 1_000_000, oneThreadTerms: 0);
        Assert.That((long)larger.Rows * 512 / larger.Count, Is.GreaterThanOrEqualTo(ChunkPlan.MinTermsPerChunk));
    }

    [Test]
    public void The_thread_target_bounds_the_chunk_count()
    {
        var plan = ChunkPlan.For(100_000, 1000, threadsPerChunk: 100, targetThreads: 800, oneThreadTerms: 0);
        Assert.That(plan.Count, Is.EqualTo(8), "800 threads / 100 per chunk");
    }

    [Test]
    public void A_short_reduction_stays_in_one_chunk_and_none_means_nothing_to_reduce()
    {
        Assert.That(ChunkPlan.For(100, 100, threadsPerChunk: 1, targetThreads: 1_000_000, oneThreadTerms: 10_000).Count, Is.EqualTo(1));
        Assert.That(ChunkPlan.For(100, 101, threadsPerChunk: 1, targetThreads: 1_000_000, oneThreadTerms: 10_000).Count, Is.GreaterThan(1));
        Assert.That(ChunkPlan.None.Count, Is.Zero);
    }
}
