using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// The bias gradient's partial sums: <c>partial[s, f] = sum over output rows (n, oh) in chunk s and
/// columns ow of dz[n, oh, ow, f]</c>, one thread per (chunk, filter), summed in a fixed order by
/// <see cref="ReductionKernels{TMem}"/>.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal sealed class BiasGradientKernel<TMem>
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly System.Action<AcceleratorStream, Index1D, DeconvParams, ChunkPlan, TMem, TMem> kernel;

    public BiasGradientKernel(Accelerator accelerator) =>
        kernel = accelerator.LoadAutoGroupedKernel<Index1D, DeconvParams, ChunkPlan, TMem, TMem>(Run);

    /// <summary>Launches the partial sums into <paramref name="partials"/> (<c>[chunks, F]</c>).</summary>
    public void Launch(AcceleratorStream stream, in DeconvParams p, ChunkPlan chunks, ArrayView<float> outputGradient, ArrayView<float> partials) =>
        kernel(stream, chunks.Count * p.Filters, p, chunks, TMem.Bind(outputGradient), TMem.Bind(partials));

    private static void Run(Index1D index, DeconvParams p, ChunkPlan chunks, TMem dz, TMem partial)
    {
        int f = index % p.Filters;
        int chunk = index / p.Filters;
        float sum = 0f;
        int rowEnd = chunks.End(chunk);
        for (int row = chunks.Start(chunk); row < rowEnd; row++)
        {
            int n = row / p.OutHeight;
            int oh = row - (n * p.OutHeight);
            int o = (n * p.YN) + (oh * p.YH) + (f * p.YC);
            for (int ow = 0; ow < p.OutWidth; ow++)
            {
                sum += dz.Load(o + (ow * p.YW));
            }
        }

        partial.Store(index, sum);
    }
}
