namespace ILGpuDeconv.Programs;

/// <summary>
/// Keras <c>softmax</c> and <c>log_softmax</c> along the last axis, from the pre-activation to the output:
/// one item per row (the last axis is contiguous in both data formats), summed in a fixed order.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct SoftmaxProgram<TMem>(SoftmaxRows rows, TMem z, TMem y) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly SoftmaxRows rows = rows;
    private readonly TMem z = z;
    private readonly TMem y = y;

    public long Items => rows.Count;

    public void Execute(int item)
    {
        int start = item * rows.Length;
        float max = Rows.Max(z, start, rows.Length);
        float sum = Rows.SumExp(z, start, rows.Length, max);
        float logSum = DeviceMath.Log(sum);
        for (int i = start; i < start + rows.Length; i++)
        {
            float shifted = z.Load(i) - max;
            y.Store(i, rows.Log != 0 ? shifted - logSum : DeviceMath.Exp(shifted) / sum);
        }
    }
}

/// <summary>
/// The gradient through softmax / log_softmax: <c>dz = y * (g - sum(g * y))</c> for softmax and
/// <c>dz = g - softmax(z) * sum(g)</c> for log_softmax, where g is dy plus the activity penalty's gradient;
/// y is recomputed from z. One item per row.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct SoftmaxGradientProgram<TMem>(SoftmaxRows rows, ActivityPenalty penalty, TMem dy, TMem z, TMem dz) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly SoftmaxRows rows = rows;
    private readonly ActivityPenalty penalty = penalty;
    private readonly TMem dy = dy;
    private readonly TMem z = z;
    private readonly TMem dz = dz;

    public long Items => rows.Count;

    public void Execute(int item)
    {
        int start = item * rows.Length;
        int end = start + rows.Length;
        float max = Rows.Max(z, start, rows.Length);
        float sum = Rows.SumExp(z, start, rows.Length, max);
        float logSum = DeviceMath.Log(sum);

        // sum(g * y) for softmax, sum(g) for log_softmax.
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

    private static float Upstream(float dy, float y, in ActivityPenalty penalty)
    {
        if (penalty.L1 == 0f && penalty.L2 == 0f)
        {
            return dy;
        }

        return dy + (penalty.L1 * DeviceMath.Sign(y)) + (2f * penalty.L2 * y);
    }
}

/// <summary>The rows a softmax runs over: how many, how long, and whether it is log_softmax.</summary>
internal readonly struct SoftmaxRows(int count, int length, bool log)
{
    public readonly int Count = count;
    public readonly int Length = length;
    public readonly int Log = log ? 1 : 0;
}

/// <summary>Row reductions the softmax programs share.</summary>
internal static class Rows
{
    /// <summary>The row's maximum; NaN never wins a comparison, so it then shows through the sum instead.</summary>
    public static float Max<TMem>(TMem z, int start, int length)
        where TMem : struct, ITensorMemory
    {
        float max = float.NegativeInfinity;
        for (int i = start; i < start + length; i++)
        {
            float v = z.Load(i);
            max = v > max ? v : max;
        }

        return max;
    }

    public static float SumExp<TMem>(TMem z, int start, int length, float max)
        where TMem : struct, ITensorMemory
    {
        float sum = 0f;
        for (int i = start; i < start + length; i++)
        {
            sum += DeviceMath.Exp(z.Load(i) - max);
        }

        return sum;
    }
}
