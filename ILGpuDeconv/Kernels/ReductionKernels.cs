using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Numerics;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// Finishes the weight gradients in one launch (kernel elements first, then bias elements): sums the
/// chunks' partial sums in chunk order, adds the regularizer's gradient <c>l1 * sign(w) + 2 * l2 * w</c>,
/// and writes or accumulates into the gradient buffer.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal sealed class ReductionKernels<TMem>
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, GradientFinish, GradientFinish, TMem, TMem, TMem, TMem, TMem, TMem> finish;
    private readonly Accelerator accelerator;

    public ReductionKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        finish = accelerator.LoadKernel<WorkGrid, GradientFinish, GradientFinish, TMem, TMem, TMem, TMem, TMem, TMem>(Finish);
    }

    /// <summary>Finishes the kernel gradient and, when <paramref name="bias"/> has a length, the bias gradient.</summary>
    public void LaunchFinish(
        AcceleratorStream stream,
        GradientFinish kernel,
        GradientFinish bias,
        (ArrayView<float> Partials, ArrayView<float> Weights, ArrayView<float> Gradient) kernelViews,
        (ArrayView<float> Partials, ArrayView<float> Weights, ArrayView<float> Gradient) biasViews)
    {
        var grid = WorkGrid.For((long)kernel.Length + bias.Length, accelerator);
        finish(
            stream, grid.Config, grid, kernel, bias,
            TMem.Bind(kernelViews.Partials), TMem.Bind(kernelViews.Weights), TMem.Bind(kernelViews.Gradient),
            TMem.Bind(biasViews.Partials), TMem.Bind(biasViews.Weights), TMem.Bind(biasViews.Gradient));
    }

    private static void Finish(
        WorkGrid grid, GradientFinish kernel, GradientFinish bias, TMem kernelPartial, TMem kernelWeights, TMem kernelGradient, TMem biasPartial, TMem biasWeights, TMem biasGradient)
    {
        for (int index = ILGPU.Grid.GlobalIndex.X; index < grid.Total; index += grid.Stride)
        {
            if (index < kernel.Length)
            {
                FinishOne(index, kernel, kernelPartial, kernelWeights, kernelGradient);
            }
            else
            {
                FinishOne(index - kernel.Length, bias, biasPartial, biasWeights, biasGradient);
            }
        }
    }

    private static void FinishOne(int index, in GradientFinish s, TMem partial, TMem w, TMem gradient)
    {
        KahanSum total = default;
        for (int chunk = 0; chunk < s.Chunks; chunk++)
        {
            total.Add(partial.Load((chunk * s.Length) + index));
        }

        float sum = total.Sum;

        if (s.L1 != 0f || s.L2 != 0f)
        {
            float weight = w.Load(index);
            float sign = DeviceMath.Sign(weight);
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
