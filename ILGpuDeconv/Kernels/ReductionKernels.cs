using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// Finishes a weight gradient: sums the chunks' partial sums in chunk order, adds the regularizer's
/// gradient <c>l1 * sign(w) + 2 * l2 * w</c>, and writes or accumulates into the gradient buffer.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal sealed class ReductionKernels<TMem>
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, GradientFinish, TMem, TMem, TMem> finish;
    private readonly Accelerator accelerator;

    public ReductionKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        finish = accelerator.LoadKernel<WorkGrid, GradientFinish, TMem, TMem, TMem>(Finish);
    }

    public void LaunchFinish(
        AcceleratorStream stream,
        GradientFinish settings,
        ArrayView<float> partials,
        ArrayView<float> weights,
        ArrayView<float> gradient)
    {
        var grid = WorkGrid.For(settings.Length, accelerator);
        finish(stream, grid.Config, grid, settings, TMem.Bind(partials), TMem.Bind(weights), TMem.Bind(gradient));
    }

    private static void Finish(WorkGrid grid, GradientFinish s, TMem partial, TMem w, TMem gradient)
    {
        for (int index = ILGPU.Grid.GlobalIndex.X; index < grid.Total; index += grid.Stride)
        {
            FinishOne(index, s, partial, w, gradient);
        }
    }

    private static void FinishOne(int index, in GradientFinish s, TMem partial, TMem w, TMem gradient)
    {
        float sum = 0f;
        for (int chunk = 0; chunk < s.Chunks; chunk++)
        {
            sum += partial.Load((chunk * s.Length) + index);
        }

        if (s.L1 != 0f || s.L2 != 0f)
        {
            float weight = w.Load(index);
            float sign = weight > 0f ? 1f : weight < 0f ? -1f : 0f;
            sum += (s.L1 * sign) + (2f * s.L2 * weight);
        }

        gradient.Store(index, s.Accumulate != 0 ? gradient.Load(index) + sum : sum);
    }
}

/// <summary>Parameters of <see cref="ReductionKernels{TMem}"/>'s finishing step.</summary>
internal readonly struct GradientFinish(int length, int chunks, float l1, float l2, bool accumulate)
{
    public readonly int Length = length;
    public readonly int Chunks = chunks;
    public readonly float L1 = l1;
    public readonly float L2 = l2;
    public readonly int Accumulate = accumulate ? 1 : 0;
}
