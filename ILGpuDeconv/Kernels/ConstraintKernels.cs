using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Kernels;

/// <summary>
/// Keras's weight constraints applied in place. Norm constraints give one thread to each slice (the
/// elements that share their coordinates on the axes not reduced): it sums the squares over the
/// reduced axes in a fixed order, then rescales the slice. Shapes are padded to rank 4.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal sealed class ConstraintKernels<TMem>
    where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
{
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, TMem> nonNeg;
    private readonly System.Action<AcceleratorStream, KernelConfig, WorkGrid, NormConstraint, TMem> norm;
    private readonly Accelerator accelerator;

    public ConstraintKernels(Accelerator accelerator)
    {
        this.accelerator = accelerator;
        nonNeg = accelerator.LoadKernel<WorkGrid, TMem>(NonNeg);
        norm = accelerator.LoadKernel<WorkGrid, NormConstraint, TMem>(Norm);
    }

    public void LaunchNonNeg(AcceleratorStream stream, int length, ArrayView<float> weights)
    {
        var grid = WorkGrid.For(length, accelerator);
        nonNeg(stream, grid.Config, grid, TMem.Bind(weights));
    }

    public void LaunchNorm(AcceleratorStream stream, NormConstraint settings, ArrayView<float> weights)
    {
        var grid = WorkGrid.For(settings.Slices, accelerator);
        norm(stream, grid.Config, grid, settings, TMem.Bind(weights));
    }

    private static void NonNeg(WorkGrid grid, TMem w)
    {
        for (int i = ILGPU.Grid.GlobalIndex.X; i < grid.Total; i += grid.Stride)
        {
            float value = w.Load(i);
            w.Store(i, value >= 0f ? value : 0f * value); // Keras: w * (w >= 0), so NaN stays NaN
        }
    }

    private static void Norm(WorkGrid grid, NormConstraint s, TMem w)
    {
        for (int slice = ILGPU.Grid.GlobalIndex.X; slice < grid.Total; slice += grid.Stride)
        {
            NormSlice(slice, s, w);
        }
    }

    private static void NormSlice(int slice, in NormConstraint s, TMem w)
    {
        // Coordinates of this slice on the kept axes (reduced axes are 0 here).
        int rest = slice;
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
        float desired = s.Kind switch
        {
            NormConstraint.UnitNormKind => 1f,
            NormConstraint.MaxNormKind => norm < s.MaxValue ? norm : s.MaxValue,
            _ => (s.Rate * (norm < s.MinValue ? s.MinValue : norm > s.MaxValue ? s.MaxValue : norm)) + ((1f - s.Rate) * norm),
        };
        float scale = desired / (s.Epsilon + norm);
        for (int r = 0; r < s.Reduced; r++)
        {
            int index = s.Index(k0, k1, k2, k3, r);
            w.Store(index, w.Load(index) * scale);
        }
    }
}

/// <summary>A norm constraint on a weight of up to rank 4 (dimensions padded with leading 1s).</summary>
internal readonly struct NormConstraint
{
    public const int MaxNormKind = 0;
    public const int UnitNormKind = 1;
    public const int MinMaxNormKind = 2;

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
    public readonly int Kind;
    public readonly float MinValue;
    public readonly float MaxValue;
    public readonly float Rate;
    public readonly float Epsilon;

    /// <summary>Describes the constraint for a weight shape; <paramref name="reducedMask"/> has bit a set when axis a is reduced.</summary>
    public NormConstraint(int[] dims, int reducedMask, int kind, float minValue, float maxValue, float rate, float epsilon)
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
        Kind = kind;
        MinValue = minValue;
        MaxValue = maxValue;
        Rate = rate;
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
