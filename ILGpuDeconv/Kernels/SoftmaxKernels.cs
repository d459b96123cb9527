using ILGpuDeconv.Numerics;
using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// Keras <c>softmax</c> and <c>log_softmax</c> along the last axis, one thread per row (the last axis is
/// contiguous in both data formats). Forward: from the pre-activation to the output, in a fixed order.
/// Backward: <c>dz = y * (dy - sum(dy * y))</c> for softmax and <c>dz = dy - softmax(z) * sum(dy)</c> for
/// log_softmax, with the activity penalty's gradient added to dy first; y is recomputed from z.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal sealed class SoftmaxKernels<TMem>
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, SoftmaxRows, TMem, TMem> forward;
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, SoftmaxRows, ActivityPenalty, TMem, TMem, TMem> backward;
    private readonly Accelerator accelerator;

    public SoftmaxKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        forward = accelerator.LoadKernel<WorkGrid, SoftmaxRows, TMem, TMem>(Forward);
        backward = accelerator.LoadKernel<WorkGrid, SoftmaxRows, ActivityPenalty, TMem, TMem, TMem>(Backward);
    }

    public void LaunchForward(AcceleratorStream stream, SoftmaxRows rows, ArrayView<float> preActivation, ArrayView<float> output)
    {
        var grid = WorkGrid.For(rows.Count, accelerator);
        forward(stream, grid.Config, grid, rows, TMem.Bind(preActivation), TMem.Bind(output));
    }

    public void LaunchBackward(
        AcceleratorStream stream, SoftmaxRows rows, ActivityPenalty penalty, ArrayView<float> outputGradient, ArrayView<float> preActivation, ArrayView<float> result)
    {
        var grid = WorkGrid.For(rows.Count, accelerator);
        backward(stream, grid.Config, grid, rows, penalty, TMem.Bind(outputGradient), TMem.Bind(preActivation), TMem.Bind(result));
    }

    private static void Forward(WorkGrid grid, SoftmaxRows rows, TMem z, TMem y)
    {
        for (int row = ILGPU.Grid.GlobalIndex.X; row < grid.Total; row += grid.Stride)
        {
            int start = row * rows.Length;
            float max = Max(z, start, rows.Length);
            float sum = SumExp(z, start, rows.Length, max);
            float logSum = DeviceMath.Log(sum);
            for (int i = start; i < start + rows.Length; i++)
            {
                float shifted = z.Load(i) - max;
                y.Store(i, rows.Log != 0 ? shifted - logSum : DeviceMath.Exp(shifted) / sum);
            }
        }
    }

    private static void Backward(WorkGrid grid, SoftmaxRows rows, ActivityPenalty penalty, TMem dy, TMem z, TMem dz)
    {
        for (int row = ILGPU.Grid.GlobalIndex.X; row < grid.Total; row += grid.Stride)
        {
            int start = row * rows.Length;
            int end = start + rows.Length;
            float max = Max(z, start, rows.Length);
            float sum = SumExp(z, start, rows.Length, max);
            float logSum = DeviceMath.Log(sum);

            // sum(g * y) for softmax, sum(g) for log_softmax, g being dy plus the penalty's gradient.
            float dot = 0f;
            for (int i = start; i < end; i++)
            {
                float shifted = z.Load(i) - max;
                float y = rows.Log != 0 ? shifted - logSum : DeviceMath.Exp(shifted) / sum;
                float g = Upstream(dy.Load(i), y, penalty);
                dot += rows.Log != 0 ? g : g * y;
            }

            for (int i = start; i < end; i++)
            {
                float shifted = z.Load(i) - max;
                float p = DeviceMath.Exp(shifted) / sum;
                float y = rows.Log != 0 ? shifted - logSum : p;
                float g = Upstream(dy.Load(i), y, penalty);
                dz.Store(i, rows.Log != 0 ? g - (p * dot) : p * (g - dot));
            }
        }
    }

    private static float Upstream(float dy, float y, in ActivityPenalty penalty)
    {
        if (penalty.L1 == 0f && penalty.L2 == 0f)
        {
            return dy;
        }

        float sign = DeviceMath.Sign(y);
        return dy + (penalty.L1 * sign) + (2f * penalty.L2 * y);
    }

    /// <summary>The row's maximum; NaN never wins a comparison, so it then shows through the sum instead.</summary>
    private static float Max(TMem z, int start, int length)
    {
        float max = float.NegativeInfinity;
        for (int i = start; i < start + length; i++)
        {
            float v = z.Load(i);
            max = v > max ? v : max;
        }

        return max;
    }

    private static float SumExp(TMem z, int start, int length, float max)
    {
        float sum = 0f;
        for (int i = start; i < start + length; i++)
        {
            sum += DeviceMath.Exp(z.Load(i) - max);
        }

        return sum;
    }
}

/// <summary>The rows a softmax runs over: how many, how long, and whether it is log_softmax.</summary>
internal readonly struct SoftmaxRows(int count, int length, bool log)
{
    public readonly int Count = count;
    public readonly int Length = length;
    public readonly int Log = log ? 1 : 0;
}
