using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>
/// The forward pass as implicit GEMMs, one per stride phase <c>(ph, pw)</c> (a grid layer each): the outputs
/// of a phase all meet the same kernel taps, so for them <c>y[m, f] = sum over (tap, c) of x[m - tap, c] *
/// W[tap, c, f]</c>, with m the phase's output positions (rows of the GEMM), f the filters (columns) and the
/// phase's taps times the channels as the reduction. Bias, activation and the pre-activation store are fused
/// into the store, as in <see cref="ForwardProgram{TAct, TMem}"/>.
/// </summary>
/// <remarks>
/// A tap that falls outside the input reads zero, so its product is formed with the weight: exact only when
/// every weight is finite (an infinite weight times a padding zero is NaN where TensorFlow forms no
/// product). The forward pass runs this program only after checking that (<see cref="ForwardLayoutProgram{TMem}"/>).
/// </remarks>
/// <typeparam name="TAct">The activation function fused into the store.</typeparam>
/// <typeparam name="TRuns">How A's runs of channels are loaded (<see cref="IRunLoads"/>).</typeparam>
/// <param name="p">The layer's parameters.</param>
/// <param name="shape">The block tile.</param>
/// <param name="x">The input.</param>
/// <param name="w">The forward layout of the weights, <c>[kh, kw, C, FiltersPadded]</c>.</param>
/// <param name="bias">The bias.</param>
/// <param name="y">The output.</param>
/// <param name="pre">The pre-activation output, where the flags ask for it.</param>
/// <param name="act">The activation.</param>
/// <param name="flags">What the store adds and keeps.</param>
internal readonly struct ForwardTiledProgram<TAct, TRuns>(
    in Conv2DTransposeParams p, TileShape shape, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, ArrayView<float> pre, TAct act, ForwardFlags flags)
    : ITiledProgram
    where TAct : unmanaged, IActivationFunction
    where TRuns : struct, IRunLoads
{
    private readonly Conv2DTransposeParams p = p;
    private readonly ArrayView<float> x = x;
    private readonly ArrayView<float> w = w;
    private readonly ArrayView<float> bias = bias;
    private readonly ArrayView<float> y = y;
    private readonly ArrayView<float> pre = pre;
    private readonly TAct act = act;
    private readonly ForwardFlags flags = flags;
    private readonly int channelSlices = TiledGemm.SlicesOf(p.InChannels);
    private readonly TileGrid grid = TileGrid.Covering(ForwardTiledProgram.GemmSize(p), shape);

    public TileGrid Grid => grid;

    public int Rows(int problem)
    {
        var phase = new Phase(p, problem);
        return p.Batch * phase.Rows * phase.Columns;
    }

    public int Slices(int problem)
    {
        var phase = new Phase(p, problem);
        return phase.TapRows * phase.TapColumns * channelSlices;
    }

    /// <summary>Gets true: a thread stages a run of channels of one output position (contiguous in NHWC).</summary>
    public bool StagesDepthRuns => true;

    // The cursor: Offset, Row, Column = the input offset, row and column of A's output position at the phase's
    // first tap (Row and Column far outside past the GEMM's rows); Block, TapRow, TapColumn = the slice's channel
    // block and tap; Extent0, Extent1 = the phase's tap columns and rows (a tap row past them is the step past the
    // last slice, which loads zeros); Step0, Step1 = its first tap row and column.
    public TileCursor Start(int problem, int aRow, int aDepth, int bColumn, int bDepth)
    {
        var phase = new Phase(p, problem);
        TileCursor c = default;
        Locate(phase, aRow, out c.Offset, out c.Row, out c.Column);
        c.DepthA = aDepth;
        c.DepthB = bDepth;
        c.ColumnB = bColumn;
        c.Extent0 = phase.TapColumns;
        c.Extent1 = phase.TapRows;
        c.Step0 = phase.FirstTapRow;
        c.Step1 = phase.FirstTapColumn;
        return c;
    }

    public TileCursor Next(TileCursor c) => c.NextBlock(channelSlices, c.Extent0);

    public TileRuns Load(TileCursor c, int countA, int countB, int half) => new(LoadA(c, countA, half), LoadB(c, countB, half));

    // Both loads compute the first half's place and add the second half's fixed distance to it (8 channels), so
    // that the two halves of a slice share their arithmetic.
    private Float4 LoadA(TileCursor c, int count, int half)
    {
        // Tap (t, u) of the phase meets input row Row - t*InputStepH (the dilation alone, 1 with a stride alone).
        int channel = (c.Block * TiledGemm.SliceDepth) + c.DepthA;
        int di = c.TapRow * p.InputStepH;
        int dj = c.TapColumn * p.InputStepW;
        bool inside = Inside(c.Row - di, c.Column - dj) && c.TapRow < c.Extent1;
        int stride = RunLoads.Stride<TRuns>(p.XC);
        int o = c.Offset + (channel * stride) - (di * p.XH) - (dj * p.XW);
        int h = half * TiledGemm.HalfSliceDepth;
        return RunLoads.Load<TRuns>(x, o + (h * stride), stride, count, inside, channel + h, p.InChannels);
    }

    private Float4 LoadB(TileCursor c, int count, int half)
    {
        int channel = (c.Block * TiledGemm.SliceDepth) + c.DepthB;
        int a = c.Step0 + (c.TapRow * p.TapStepH);
        int b = c.Step1 + (c.TapColumn * p.TapStepW);
        int index = ((((a * p.KernelWidth) + b) * p.InChannels) + channel) * p.FiltersPadded + c.ColumnB;
        int h = half * TiledGemm.HalfSliceDepth;
        bool valid = channel + h < p.InChannels && c.ColumnB < p.FiltersPadded && c.TapRow < c.Extent1;

        // FiltersPadded and the column are multiples of 4 (of 2 for two columns): one 128-bit (64-bit) load.
        return RunLoads.Load<ContiguousRuns>(w, index + (h * p.FiltersPadded), 1, count, valid, 0, 1);
    }

    public void Store(int problem, int m, int n0, Float4 values)
    {
        var phase = new Phase(p, problem);
        int columns = phase.Columns;
        int perImage = phase.Rows * columns;
        if (m >= p.Batch * perImage)
        {
            return;
        }

        int n = m / perImage;
        int rest = m - (n * perImage);
        int r = rest / columns;
        int q = rest - (r * columns);
        int oh = phase.FirstRow + (r * p.StrideH);
        int ow = phase.FirstColumn + (q * p.StrideW);
        int o = (n * p.YN) + (oh * p.YH) + (ow * p.YW) + (n0 * p.YC);
        StoreOne(o, n0, values.X);
        StoreOne(o + p.YC, n0 + 1, values.Y);
        StoreOne(o + (2 * p.YC), n0 + 2, values.Z);
        StoreOne(o + (3 * p.YC), n0 + 3, values.W);
    }

    private void StoreOne(int offset, int filter, float sum)
    {
        if (filter >= p.Filters)
        {
            return;
        }

        float value = (flags & ForwardFlags.AddBias) != 0 ? sum + bias[filter] : sum;
        if ((flags & ForwardFlags.StorePreActivation) != 0)
        {
            pre[offset] = value;
        }

        y[offset] = act.Apply(value);
    }

    private bool Inside(int i, int j) => IndexMath.Within(i, p.InHeight) && IndexMath.Within(j, p.InWidth);

    /// <summary>Output position m of a phase: its offset at tap 0 and its input row and column there (far negative past the end).</summary>
    private void Locate(in Phase phase, int m, out int offset, out int row, out int column)
    {
        int columns = phase.Columns;
        int perImage = phase.Rows * columns;
        if (m >= p.Batch * perImage)
        {
            offset = 0;
            row = Phase.Outside;
            column = Phase.Outside;
            return;
        }

        int n = m / perImage;
        int rest = m - (n * perImage);
        int r = rest / columns;
        int q = rest - (r * columns);
        row = phase.FirstInputRow + r;
        column = phase.FirstInputColumn + q;
        offset = (n * p.XN) + (row * p.XH) + (column * p.XW);
    }

    /// <summary>One stride phase: the outputs whose position plus crop is <c>(H, W)</c> modulo the strides.</summary>
    private readonly struct Phase
    {
        /// <summary>A position no tap offset brings inside the input.</summary>
        public const int Outside = -(1 << 29);

        public readonly int H;
        public readonly int W;
        public readonly int FirstRow;
        public readonly int FirstColumn;
        public readonly int Rows;
        public readonly int Columns;
        public readonly int TapRows;
        public readonly int TapColumns;
        public readonly int FirstInputRow;
        public readonly int FirstInputColumn;
        public readonly int FirstTapRow;
        public readonly int FirstTapColumn;

        public Phase(in Conv2DTransposeParams p, int problem)
        {
            H = problem / p.StrideW;
            W = problem - (H * p.StrideW);
            FirstRow = IndexMath.FirstOfPhase(H, p.CropTop, p.StrideH);
            FirstColumn = IndexMath.FirstOfPhase(W, p.CropLeft, p.StrideW);
            Rows = IndexMath.CountFrom(FirstRow, p.OutHeight, p.StrideH);
            Columns = IndexMath.CountFrom(FirstColumn, p.OutWidth, p.StrideW);
            FirstTapRow = p.FirstTapRow(H);
            FirstTapColumn = p.FirstTapColumn(W);
            TapRows = FirstTapRow < 0 ? 0 : IndexMath.CountFrom(FirstTapRow, p.KernelHeight, p.TapStepH);
            TapColumns = FirstTapColumn < 0 ? 0 : IndexMath.CountFrom(FirstTapColumn, p.KernelWidth, p.TapStepW);
            FirstInputRow = (FirstRow + p.CropTop - (FirstTapRow * p.DilationH)) / p.StrideH;
            FirstInputColumn = (FirstColumn + p.CropLeft - (FirstTapColumn * p.DilationW)) / p.StrideW;
        }
    }
}

/// <summary>The forward pass's GEMM, apart from the types the program is closed over.</summary>
internal static class ForwardTiledProgram
{
    /// <summary>Gets whether the input's runs of channels are contiguous in <paramref name="x"/> (<see cref="ContiguousRuns"/>).</summary>
    public static bool ContiguousRuns(in Conv2DTransposeParams p, ArrayView<float> x) => RunLoads.Hold(p.XC, p.InChannels, x);

    /// <summary>Gets the GEMM rows of the largest stride phase, its columns and the phases, for choosing a tile.</summary>
    public static (long Rows, int Columns, int Problems) GemmSize(in Conv2DTransposeParams p) =>
        ((long)p.Batch * ((p.OutHeight + p.StrideH - 1) / p.StrideH) * p.PhaseColumns, p.Filters, p.StrideH * p.StrideW);
}
