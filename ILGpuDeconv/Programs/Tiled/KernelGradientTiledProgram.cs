using ILGPU;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>
/// The kernel gradient as one implicit GEMM per tap <c>(a, b)</c>: <c>dW[a, b, f, c] = sum over k of
/// dz[out(k), f] * x[k, c]</c>, with the filters as rows, the channels as columns, and as the reduction only
/// the input positions k = (n, i, j) whose output position <c>(i*sh + a*dh - top, j*sw + b*dw - left)</c>
/// exists: a rectangle of rows and columns per tap, so no product with a padding zero is formed and the
/// result is exact for any input. The reduction is split into <see cref="Splits"/> contiguous parts (grid
/// layers <c>split * taps + tap</c>) whose partial sums <see cref="GradientFinishProgram{TMem}"/> adds in a
/// fixed order: deterministic, no atomics.
/// </summary>
internal readonly struct KernelGradientTiledProgram : ITiledProgram
{
    /// <summary>At most this many slices (of 8 terms) per split: bounds the length of each float sum.</summary>
    public const int MaxSlicesPerSplit = 256;

    private readonly Conv2DTransposeParams p;
    private readonly ArrayView<float> x;
    private readonly ArrayView<float> dz;
    private readonly ArrayView<float> partial;
    private readonly int slicesPerSplit;
    private readonly TileGrid grid;

    /// <summary>Describes the launch: partial sums <c>[splits, kh, kw, F, C]</c> into <paramref name="partial"/>.</summary>
    public KernelGradientTiledProgram(in Conv2DTransposeParams p, TileShape shape, int splits, ArrayView<float> x, ArrayView<float> dz, ArrayView<float> partial)
    {
        this.p = p;
        this.x = x;
        this.dz = dz;
        this.partial = partial;
        Splits = splits;
        slicesPerSplit = (MaxSlices(p) + splits - 1) / splits;
        grid = new TileGrid(
            (p.Filters + TiledGemm.Rows(shape) - 1) / TiledGemm.Rows(shape),
            (p.InChannels + TiledGemm.Columns(shape) - 1) / TiledGemm.Columns(shape),
            checked(splits * p.KernelTaps),
            shape);
    }

    /// <summary>Gets the number of parts the reduction is split into.</summary>
    public int Splits { get; }

    /// <summary>Gets the slices of the longest tap's reduction (every input position).</summary>
    public static int MaxSlices(in Conv2DTransposeParams p) =>
        checked((int)(((long)p.Batch * p.InHeight * p.InWidth + TiledGemm.SliceDepth - 1) / TiledGemm.SliceDepth));

    public TileGrid Grid => grid;

    public int Rows(int problem) => p.Filters;

    public int Slices(int problem)
    {
        var tap = new TapRange(p, problem % p.KernelTaps);
        int total = (tap.Terms + TiledGemm.SliceDepth - 1) / TiledGemm.SliceDepth;
        int left = total - ((problem / p.KernelTaps) * slicesPerSplit);
        return left <= 0 ? 0 : left < slicesPerSplit ? left : slicesPerSplit;
    }

    public GatherState PrepareA(int problem, int m0, int count) => new() { Offset0 = m0 };

    public GatherState PrepareB(int problem, int n0, int count) => new() { Offset0 = n0 };

    public Float4 LoadA(GatherState rows, int problem, int slice, int kRow, int count)
    {
        Float4 v = default;
        if (!Term(problem, slice, kRow, out var tap, out int n, out int i, out int j))
        {
            return v;
        }

        int oh = (i * p.StrideH) + tap.RowShift;
        int ow = (j * p.StrideW) + tap.ColumnShift;
        int f0 = rows.Offset0;
        int o = (n * p.YN) + (oh * p.YH) + (ow * p.YW) + (f0 * p.YC);
        v.X = f0 < p.Filters ? dz[o] : 0f;
        v.Y = f0 + 1 < p.Filters ? dz[o + p.YC] : 0f;
        if (count > 2)
        {
            v.Z = f0 + 2 < p.Filters ? dz[o + (2 * p.YC)] : 0f;
            v.W = f0 + 3 < p.Filters ? dz[o + (3 * p.YC)] : 0f;
        }

        return v;
    }

    public Float4 LoadB(GatherState columns, int problem, int slice, int kRow, int count)
    {
        Float4 v = default;
        if (!Term(problem, slice, kRow, out _, out int n, out int i, out int j))
        {
            return v;
        }

        int c0 = columns.Offset0;
        int o = (n * p.XN) + (i * p.XH) + (j * p.XW) + (c0 * p.XC);
        v.X = c0 < p.InChannels ? x[o] : 0f;
        v.Y = c0 + 1 < p.InChannels ? x[o + p.XC] : 0f;
        if (count > 2)
        {
            v.Z = c0 + 2 < p.InChannels ? x[o + (2 * p.XC)] : 0f;
            v.W = c0 + 3 < p.InChannels ? x[o + (3 * p.XC)] : 0f;
        }

        return v;
    }

    public void Store(int problem, int m, int n0, Float4 values)
    {
        if (m >= p.Filters)
        {
            return;
        }

        // partial[split][tap][f][c], c over all input channels (the view starts at this group's): problem = split * taps + tap.
        int o = (((problem * p.Filters) + m) * p.KernelChannels) + n0;
        StoreOne(o, n0, values.X);
        StoreOne(o + 1, n0 + 1, values.Y);
        StoreOne(o + 2, n0 + 2, values.Z);
        StoreOne(o + 3, n0 + 3, values.W);
    }

    /// <summary>The input position of row <paramref name="kRow"/> of a slice of the problem's split, if the tap's reduction reaches it.</summary>
    private bool Term(int problem, int slice, int kRow, out TapRange tap, out int n, out int i, out int j)
    {
        tap = new TapRange(p, problem % p.KernelTaps);
        int k = ((((problem / p.KernelTaps) * slicesPerSplit) + slice) * TiledGemm.SliceDepth) + kRow;
        if (k >= tap.Terms)
        {
            n = i = j = 0;
            return false;
        }

        tap.Position(k, out n, out i, out j);
        return true;
    }

    private void StoreOne(int offset, int channel, float value)
    {
        if (channel < p.InChannels)
        {
            partial[offset] = value;
        }
    }

    /// <summary>The input positions whose output position exists for one tap: rows and columns are each a range.</summary>
    private readonly struct TapRange
    {
        public readonly int RowShift;
        public readonly int ColumnShift;
        public readonly int FirstRow;
        public readonly int FirstColumn;
        public readonly int RowCount;
        public readonly int ColumnCount;
        public readonly int Terms;

        public TapRange(in Conv2DTransposeParams p, int tap)
        {
            int a = tap / p.KernelWidth;
            int b = tap - (a * p.KernelWidth);
            RowShift = (a * p.DilationH) - p.CropTop;
            ColumnShift = (b * p.DilationW) - p.CropLeft;
            FirstRow = Max(0, IndexMath.CeilDiv(-RowShift, p.StrideH));
            FirstColumn = Max(0, IndexMath.CeilDiv(-ColumnShift, p.StrideW));
            RowCount = Max(0, Min(p.InHeight - 1, IndexMath.FloorDiv(p.OutHeight - 1 - RowShift, p.StrideH)) - FirstRow + 1);
            ColumnCount = Max(0, Min(p.InWidth - 1, IndexMath.FloorDiv(p.OutWidth - 1 - ColumnShift, p.StrideW)) - FirstColumn + 1);
            Terms = p.Batch * RowCount * ColumnCount;
        }

        public void Position(int k, out int n, out int i, out int j)
        {
            int perImage = RowCount * ColumnCount;
            n = k / perImage;
            int rest = k - (n * perImage);
            int r = rest / ColumnCount;
            i = FirstRow + r;
            j = FirstColumn + (rest - (r * ColumnCount));
        }

        private static int Max(int a, int b) => a > b ? a : b;

        private static int Min(int a, int b) => a < b ? a : b;
    }
}
