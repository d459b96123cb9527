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
/// <typeparam name="TRuns">How the runs of filters of A and of channels of B are loaded (<see cref="IRunLoads"/>).</typeparam>
/// <param name="p">The layer's parameters.</param>
/// <param name="shape">The block tile.</param>
/// <param name="splits">The number of parts the reduction is split into.</param>
/// <param name="x">The input.</param>
/// <param name="dz">The output gradient.</param>
/// <param name="partial">The partial sums, <c>[splits, kh, kw, F, C]</c>.</param>
internal readonly struct KernelGradientTiledProgram<TRuns>(in Conv2DTransposeParams p, TileShape shape, int splits, ArrayView<float> x, ArrayView<float> dz, ArrayView<float> partial)
    : ITiledProgram
    where TRuns : struct, IRunLoads
{
    private readonly Conv2DTransposeParams p = p;
    private readonly ArrayView<float> x = x;
    private readonly ArrayView<float> dz = dz;
    private readonly ArrayView<float> partial = partial;
    private readonly int slicesPerSplit = (KernelGradientTiledProgram.MaxSlices(p) + splits - 1) / splits;
    private readonly TileGrid grid = TileGrid.Covering((p.Filters, p.InChannels, checked(splits * p.KernelTaps)), shape);

    /// <summary>Gets the number of parts the reduction is split into.</summary>
    public int Splits { get; } = splits;

    public TileGrid Grid => grid;

    public int Rows(int problem) => p.Filters;

    public int Slices(int problem)
    {
        var tap = new TapRange(p, problem % p.KernelTaps);
        int total = TiledGemm.SlicesOf(tap.Terms);
        int left = total - ((problem / p.KernelTaps) * slicesPerSplit);
        return left <= 0 ? 0 : left < slicesPerSplit ? left : slicesPerSplit;
    }

    /// <summary>Gets false: a thread stages a run of filters at one input position (contiguous in NHWC), as B's channels.</summary>
    public bool StagesDepthRuns => false;

    // The cursor walks the tap's input positions k = (n, i, j) in its rectangle, both operands at the same depth d
    // (the thread's warp): staged rows d and 8 + d of a slice hold its positions 2d and 2d + 1, so that the second half
    // is the next position, one carry away (At). Block = k; Image, Row, Column = n and the row and column within the rectangle; TapRow, TapColumn = the
    // rectangle's first row and column; Offset, OffsetB = the tap's row and column shifts; Extent0, Extent1, Extent2
    // = the rectangle's rows, columns and positions; Step0, Step1, Step2 = the slice depth as columns, rows and
    // images of the rectangle, so that a slice advances k by additions with carries. RowA, ColumnB = the first
    // filter of A's run and channel of B's.
    public TileCursor Start(int problem, int aRow, int aDepth, int bColumn, int bDepth)
    {
        var tap = new TapRange(p, problem % p.KernelTaps);
        int k = ((problem / p.KernelTaps) * slicesPerSplit * TiledGemm.SliceDepth) + (2 * aDepth);
        int columns = tap.ColumnCount > 0 ? tap.ColumnCount : 1;
        int perImage = (tap.RowCount > 0 ? tap.RowCount : 1) * columns;
        TileCursor c = default;
        c.Block = k;
        c.Image = k / perImage;
        int rest = k - (c.Image * perImage);
        c.Row = rest / columns;
        c.Column = rest - (c.Row * columns);
        c.TapRow = tap.FirstRow;
        c.TapColumn = tap.FirstColumn;
        c.Offset = tap.RowShift;
        c.OffsetB = tap.ColumnShift;
        c.Extent0 = perImage / columns;
        c.Extent1 = columns;
        c.Extent2 = tap.Terms;
        // The slice depth in the radix (images, rows, columns), by subtraction: ILGPU's O2 code placement moves pure
        // values such as divisions into the loop that uses them (it did: three divisions per slice), but not a loop's results.
        int step = TiledGemm.SliceDepth, rows = 0, images = 0;
        while (step >= columns)
        {
            step -= columns;
            rows++;
        }

        while (rows >= c.Extent0)
        {
            rows -= c.Extent0;
            images++;
        }

        c.Step0 = step;
        c.Step1 = rows;
        c.Step2 = images;
        c.RowA = aRow;
        c.ColumnB = bColumn;
        return c;
    }

    public TileCursor Next(TileCursor c)
    {
        // k + 16 in the mixed radix (images, rows, columns): each digit carries at most one.
        c.Block += TiledGemm.SliceDepth;
        int column = c.Column + c.Step0;
        bool carry = column >= c.Extent1;
        c.Column = carry ? column - c.Extent1 : column;
        int row = c.Row + c.Step1 + (carry ? 1 : 0);
        bool carryRow = row >= c.Extent0;
        c.Row = carryRow ? row - c.Extent0 : row;
        c.Image += c.Step2 + (carryRow ? 1 : 0);
        return c;
    }

    public TileRuns Load(TileCursor cursor, int countA, int countB, int half)
    {
        // Both operands at the same input position: decoded once.
        var c = At(cursor, half);
        bool term = c.Block < c.Extent2;
        int i = c.TapRow + c.Row;
        int j = c.TapColumn + c.Column;
        int f0 = c.RowA;
        int strideA = RunLoads.Stride<TRuns>(p.YC);
        int oA = (c.Image * p.YN) + (((i * p.StrideH) + c.Offset) * p.YH) + (((j * p.StrideW) + c.OffsetB) * p.YW) + (f0 * strideA);
        int c0 = c.ColumnB;
        int strideB = RunLoads.Stride<TRuns>(p.XC);
        int oB = (c.Image * p.XN) + (i * p.XH) + (j * p.XW) + (c0 * strideB);
        return new(RunLoads.Load<TRuns>(dz, oA, strideA, countA, term, f0, p.Filters), RunLoads.Load<TRuns>(x, oB, strideB, countB, term, c0, p.InChannels));
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

    /// <summary>The cursor at the thread's position of half <paramref name="half"/>: its own (0) or the next one (1), one carry away.</summary>
    private static TileCursor At(TileCursor c, int half)
    {
        int column = c.Column + half;
        bool carry = column >= c.Extent1;
        int row = c.Row + (carry ? 1 : 0);
        bool carryRow = row >= c.Extent0;
        c.Block += half;
        c.Column = carry ? 0 : column;
        c.Row = carryRow ? 0 : row;
        c.Image += carryRow ? 1 : 0;
        return c;
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

        private static int Max(int a, int b) => a > b ? a : b;

        private static int Min(int a, int b) => a < b ? a : b;
    }
}

/// <summary>The kernel gradient's GEMM, apart from the type the program is closed over.</summary>
internal static class KernelGradientTiledProgram
{
    /// <summary>At most this many slices (of 16 terms) per split: bounds the length of each float sum (2048 terms).</summary>
    public const int MaxSlicesPerSplit = 128;

    /// <summary>Gets the slices of the longest tap's reduction (every input position).</summary>
    public static int MaxSlices(in Conv2DTransposeParams p) =>
        checked((int)(((long)p.Batch * p.InHeight * p.InWidth + TiledGemm.SliceDepth - 1) / TiledGemm.SliceDepth));

    /// <summary>Gets whether both operands' runs (filters of the output gradient, channels of the input) are contiguous (<see cref="ContiguousRuns"/>).</summary>
    public static bool ContiguousRuns(in Conv2DTransposeParams p, ArrayView<float> x, ArrayView<float> dz) =>
        RunLoads.Hold(p.XC, p.InChannels, x) && RunLoads.Hold(p.YC, p.Filters, dz);

    /// <summary>Gets whether the layer's sizes let both operands' runs be contiguous (their views, checked at the launch, aside).</summary>
    public static bool ContiguousRunsFit(in Conv2DTransposeParams p) =>
        RunLoads.Fit(p.XC, p.InChannels) && RunLoads.Fit(p.YC, p.Filters);
}
