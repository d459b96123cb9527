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
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, DeconvParams, ChunkPlan, TMem, TMem> kernel;
    private readonly Accelerator accelerator;

    public BiasGradientKernel(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        kernel = accelerator.LoadKernel<WorkGrid, DeconvParams, ChunkPlan, TMem, TMem>(Run);
    }

    /// <summary>Launches the partial sums into <paramref name="partials"/> (<c>[chunks, F]</c>).</summary>
    public void Launch(AcceleratorStream stream, in DeconvParams p, ChunkPlan chunks, ArrayView<float> outputGradient, ArrayView<float> partials)
    {
        var grid = WorkGrid.For((long)chunks.Count * p.Filters, accelerator);
        kernel(stream, grid.Config, grid, p, chunks, TMem.Bind(outputGradient), TMem.Bind(partials));
    }

    private static void Run(WorkGrid grid, DeconvParams p, ChunkPlan chunks, TMem dz, TMem partial)
    {
        for (int item = ILGPU.Grid.GlobalIndex.X; item < grid.Total; item += grid.Stride)
        {
            Block(item, p, chunks, dz, partial);
        }
    }

    private static void Block(int item, in DeconvParams p, in ChunkPlan chunks, TMem dz, TMem partial)
    {
        int f = item % p.Filters;
        int chunk = item / p.Filters;
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

        partial.Store(item, sum);
    }
}
