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
internal readonly struct ForwardTiledProgram<TAct> : ITiledProgram
    where TAct : unmanaged, IActivationFunction
{
    private readonly Conv2DTransposeParams p;
    private readonly ArrayView<float> x;
    private readonly ArrayView<Float4> w;
    private readonly ArrayView<float> bias;
    private readonly ArrayView<float> y;
    private readonly ArrayView<float> pre;
    private readonly TAct act;
    private readonly ForwardFlags flags;
    private readonly int channelSlices;
    private readonly TileGrid grid;

    /// <summary>Describes the launch; <paramref name="w"/> is the forward layout <c>[kh, kw, C, FiltersPadded]</c>.</summary>
    public ForwardTiledProgram(
        in Conv2DTransposeParams p, TileShape shape, ArrayView<float> x, ArrayView<float> w, ArrayView<float> bias, ArrayView<float> y, ArrayView<float> pre, TAct act, ForwardFlags flags)
    {
        this.p = p;
        this.x = x;
        this.w = w.Cast<Float4>();
        this.bias = bias;
        this.y = y;
        this.pre = pre;
        this.act = act;
        this.flags = flags;
        channelSlices = (p.InChannels + TiledGemm.SliceDepth - 1) / TiledGemm.SliceDepth;
        var (rows, columns, problems) = ForwardTiledProgram.GemmSize(p);
        grid = new TileGrid(
            checked((int)((rows + TiledGemm.Rows(shape) - 1) / TiledGemm.Rows(shape))),
            (columns + TiledGemm.Columns(shape) - 1) / TiledGemm.Columns(shape),
            problems,
            shape);
    }

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

    public GatherState PrepareA(int problem, int m0, int count)
    {
        var phase = new Phase(p, problem);
        GatherState s = default;
        Locate(phase, m0, out s.Offset0, out s.Row0, out s.Column0);
        Locate(phase, m0 + 1, out s.Offset1, out s.Row1, out s.Column1);
        if (count > 2)
        {
            Locate(phase, m0 + 2, out s.Offset2, out s.Row2, out s.Column2);
            Locate(phase, m0 + 3, out s.Offset3, out s.Row3, out s.Column3);
        }

        return s;
    }

    public GatherState PrepareB(int problem, int n0, int count) => new() { Offset0 = n0 };

    public Float4 LoadA(GatherState rows, int problem, int slice, int kRow, int count)
    {
        var phase = new Phase(p, problem);
        int c = SliceTap(phase, slice, kRow, out int t, out int u);
        Float4 v = default;
        if (c >= p.InChannels)
        {
            return v;
        }

        // Tap t of the phase meets input row qh - t*InputStepH (the dilation alone, 1 with a stride alone).
        int di = t * p.InputStepH;
        int dj = u * p.InputStepW;
        int delta = (c * p.XC) - (di * p.XH) - (dj * p.XW);
        v.X = Inside(rows.Row0 - di, rows.Column0 - dj) ? x[rows.Offset0 + delta] : 0f;
        v.Y = Inside(rows.Row1 - di, rows.Column1 - dj) ? x[rows.Offset1 + delta] : 0f;
        if (count > 2)
        {
            v.Z = Inside(rows.Row2 - di, rows.Column2 - dj) ? x[rows.Offset2 + delta] : 0f;
            v.W = Inside(rows.Row3 - di, rows.Column3 - dj) ? x[rows.Offset3 + delta] : 0f;
        }

        return v;
    }

    public Float4 LoadB(GatherState columns, int problem, int slice, int kRow, int count)
    {
        var phase = new Phase(p, problem);
        int c = SliceTap(phase, slice, kRow, out int t, out int u);
        int n0 = columns.Offset0;
        if (c >= p.InChannels || n0 >= p.FiltersPadded)
        {
            return default;
        }

        int a = phase.FirstTapRow + (t * p.TapStepH);
        int b = phase.FirstTapColumn + (u * p.TapStepW);
        int index = ((((a * p.KernelWidth) + b) * p.InChannels) + c) * p.FiltersPadded + n0;
        if (count > 2)
        {
            return w.AsAligned(16)[index >> 2]; // FiltersPadded and n0 are multiples of 4: one 128-bit load
        }

        var floats = w.Cast<float>();
        return new Float4(floats[index], floats[index + 1], 0f, 0f);
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

    /// <summary>The channel of row <paramref name="kRow"/> of a slice, and the phase's tap (row t, column u) it belongs to.</summary>
    private int SliceTap(in Phase phase, int slice, int kRow, out int t, out int u)
    {
        int tap = slice / channelSlices;
        t = tap / phase.TapColumns;
        u = tap - (t * phase.TapColumns);
        return ((slice - (tap * channelSlices)) * TiledGemm.SliceDepth) + kRow;
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

/// <summary>The forward pass's GEMM, apart from the activation the program is closed over.</summary>
internal static class ForwardTiledProgram
{
    /// <summary>Gets the GEMM rows of the largest stride phase, its columns and the phases, for choosing a tile.</summary>
    public static (long Rows, int Columns, int Problems) GemmSize(in Conv2DTransposeParams p) =>
        ((long)p.Batch * ((p.OutHeight + p.StrideH - 1) / p.StrideH) * p.PhaseColumns, p.Filters, p.StrideH * p.StrideW);
}
