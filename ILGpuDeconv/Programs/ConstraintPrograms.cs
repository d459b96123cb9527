namespace ILGpuDeconv.Programs;

/// <summary>Keras <c>NonNeg</c> in place: <c>w * (w &gt;= 0)</c>, so a NaN stays NaN. One item per weight.</summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct NonNegProgram<TMem>(int length, TMem w) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly int length = length;
    private readonly TMem w = w;

    public long Items => length;

    public void Execute(int item)
    {
        float value = w.Load(item);
        w.Store(item, value >= 0f ? value : 0f * value);
    }
}

/// <summary>
/// A Keras norm constraint in place. One item per slice (the elements that share their coordinates on the
/// axes not reduced): it sums the squares over the reduced axes in a fixed order, then rescales the slice
/// to <c>rule.Desired(norm) / (epsilon + norm)</c>.
/// </summary>
/// <typeparam name="TRule">The norm the slice should have: <see cref="UnitNormRule"/>, <see cref="MaxNormRule"/>, <see cref="MinMaxNormRule"/>.</typeparam>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct NormProgram<TRule, TMem>(NormSlices s, TRule rule, TMem w) : IGpuProgram
    where TRule : unmanaged, INormRule
    where TMem : struct, ITensorMemory
{
    private readonly NormSlices s = s;
    private readonly TRule rule = rule;
    private readonly TMem w = w;

    public long Items => s.Slices;

    public void Execute(int item)
    {
        // Coordinates of this slice on the kept axes (reduced axes are 0 here).
        int rest = item;
        int k3 = s.Keep3 != 0 ? rest % s.D3 : 0;
        rest = s.Keep3 != 0 ? rest / s.D3 : rest;
        int k2 = s.Keep2 != 0 ? rest % s.D2 : 0;
        rest = s.Keep2 != 0 ? rest / s.D2 : rest;
        int k1 = s.Keep1 != 0 ? rest % s.D1 : 0;
        rest = s.Keep1 != 0 ? rest / s.D1 : rest;
        int k0 = s.Keep0 != 0 ? rest : 0;

        float sum = 0f;
        for (int r = 0; r < s.Reduced; r++)
        {
            float value = w.Load(s.Index(k0, k1, k2, k3, r));
            sum += value * value;
        }

        float norm = System.MathF.Sqrt(sum);
        float scale = rule.Desired(norm) / (s.Epsilon + norm);
        for (int r = 0; r < s.Reduced; r++)
        {
            int index = s.Index(k0, k1, k2, k3, r);
            w.Store(index, w.Load(index) * scale);
        }
    }
}

/// <summary>The norm a slice should have, given the norm it has.</summary>
internal interface INormRule
{
    float Desired(float norm);
}

/// <summary>Keras <c>UnitNorm</c>: 1.</summary>
internal readonly struct UnitNormRule : INormRule
{
    public float Desired(float norm) => 1f;
}

/// <summary>Keras <c>MaxNorm</c>: the norm, clipped at the maximum.</summary>
internal readonly struct MaxNormRule(float maxValue) : INormRule
{
    private readonly float maxValue = maxValue;

    public float Desired(float norm) => norm < maxValue ? norm : maxValue;
}

/// <summary>Keras <c>MinMaxNorm</c>: <c>rate * clip(norm, min, max) + (1 - rate) * norm</c>.</summary>
internal readonly struct MinMaxNormRule(float minValue, float maxValue, float rate) : INormRule
{
    private readonly float minValue = minValue;
    private readonly float maxValue = maxValue;
    private readonly float rate = rate;

    public float Desired(float norm) => (rate * (norm < minValue ? minValue : norm > maxValue ? maxValue : norm)) + ((1f - rate) * norm);
}

/// <summary>The slices of a weight of up to rank 4 (dimensions padded with leading 1s) that a norm constraint rescales.</summary>
internal readonly struct NormSlices
{
    public readonly int D0;
    public readonly int D1;
    public readonly int D2;
    public readonly int D3;
    public readonly int Keep0; // 1 when axis 0 is kept (bool is not blittable for ILGPU)
    public readonly int Keep1; // 1 when axis 1 is kept (bool is not blittable for ILGPU)
    public readonly int Keep2; // 1 when axis 2 is kept (bool is not blittable for ILGPU)
    public readonly int Keep3; // 1 when axis 3 is kept (bool is not blittable for ILGPU)
    public readonly int Slices;
    public readonly int Reduced;
    public readonly float Epsilon;

    /// <summary>Describes the constraint for a weight shape; <paramref name="reducedMask"/> has bit a set when axis a is reduced.</summary>
    public NormSlices(int[] dims, int reducedMask, float epsilon)
    {
        int pad = 4 - dims.Length;
        var d = new int[4];
        var keep = new bool[4];
        for (int axis = 0; axis < 4; axis++)
        {
            int original = axis - pad;
            d[axis] = original < 0 ? 1 : dims[original];
            keep[axis] = original >= 0 && (reducedMask & (1 << original)) == 0;
        }

        (D0, D1, D2, D3) = (d[0], d[1], d[2], d[3]);
        (Keep0, Keep1, Keep2, Keep3) = (keep[0] ? 1 : 0, keep[1] ? 1 : 0, keep[2] ? 1 : 0, keep[3] ? 1 : 0);
        int slices = 1, reduced = 1;
        for (int axis = 0; axis < 4; axis++)
        {
            if (keep[axis])
            {
                slices *= d[axis];
            }
            else
            {
                reduced *= d[axis];
            }
        }

        Slices = slices;
        Reduced = reduced;
        Epsilon = epsilon;
    }

    /// <summary>The flat index of the r-th element (row-major over the reduced axes) of the slice at (k0..k3).</summary>
    public int Index(int k0, int k1, int k2, int k3, int r)
    {
        int c3 = k3, c2 = k2, c1 = k1, c0 = k0;
        if (Keep3 == 0)
        {
            c3 = r % D3;
            r /= D3;
        }

        if (Keep2 == 0)
        {
            c2 = r % D2;
            r /= D2;
        }

        if (Keep1 == 0)
        {
            c1 = r % D1;
            r /= D1;
        }

        if (Keep0 == 0)
        {
            c0 = r;
        }

        return (((((c0 * D1) + c1) * D2) + c2) * D3) + c3;
    }
}
