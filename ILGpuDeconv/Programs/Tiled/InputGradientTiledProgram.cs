using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>
/// The input gradient as one implicit GEMM: <c>dx[m, c] = sum over (tap, f) of dz[m + tap, f] * W[tap, f, c]</c>,
/// with m the input positions (rows), c the channels (columns), and every tap times the filters as the
/// reduction; <c>m + tap</c> is output position <c>(i*sh + a*dh - top, j*sw + b*dw - left)</c>.
/// </summary>
/// <remarks>
/// A tap whose output position lies outside the output reads zero and forms its product with the weight:
/// exact only when every weight is finite, which the backward pass checks before it runs this program.
/// </remarks>
/// <typeparam name="TRuns">How A's runs of filters are loaded (<see cref="IRunLoads"/>).</typeparam>
/// <param name="p">The layer's parameters.</param>
/// <param name="shape">The block tile.</param>
/// <param name="dz">The output gradient.</param>
/// <param name="w">The input-gradient layout of the weights, <c>[kh, kw, F, ChannelsPadded]</c>.</param>
/// <param name="dx">The input gradient.</param>
internal readonly struct InputGradientTiledProgram<TRuns>(in Conv2DTransposeParams p, TileShape shape, ArrayView<float> dz, ArrayView<float> w, ArrayView<float> dx)
    : ITiledProgram
    where TRuns : struct, IRunLoads
{
    private readonly Conv2DTransposeParams p = p;
    private readonly ArrayView<float> dz = dz;
    private readonly ArrayView<float> w = w;
    private readonly ArrayView<float> dx = dx;
    private readonly int filterSlices = TiledGemm.SlicesOf(p.Filters);
    private readonly TileGrid grid = TileGrid.Covering(InputGradientTiledProgram.GemmSize(p), shape);

    public TileGrid Grid => grid;

    public int Rows(int problem) => p.Batch * p.InHeight * p.InWidth;

    public int Slices(int problem) => p.KernelTaps * filterSlices;

    /// <summary>Gets true: a thread stages a run of filters of one input position (contiguous in NHWC).</summary>
    public bool StagesDepthRuns => true;

    // The cursor: Offset, Row, Column = the output-gradient offset, row and column of A's input position at tap 0
    // (far outside past the GEMM's rows); Block, TapRow, TapColumn = the slice's filter block and kernel tap (a tap
    // row past the kernel is the step past the last slice, which loads zeros).
    public TileCursor Start(int problem, int aRow, int aDepth, int bColumn, int bDepth)
    {
        TileCursor c = default;
        Locate(aRow, out c.Offset, out c.Row, out c.Column);
        c.DepthA = aDepth;
        c.DepthB = bDepth;
        c.ColumnB = bColumn;
        return c;
    }

    public TileCursor Next(TileCursor c) => c.NextBlock(filterSlices, p.KernelWidth);

    public TileRuns Load(TileCursor c, int countA, int countB, int half) => new(LoadA(c, countA, half), LoadB(c, countB, half));

    // Both loads compute the first half's place and add the second half's fixed distance to it (8 filters), so
    // that the two halves of a slice share their arithmetic.
    private Float4 LoadA(TileCursor c, int count, int half)
    {
        int f = (c.Block * TiledGemm.SliceDepth) + c.DepthA;
        int dh = c.TapRow * p.DilationH;
        int dw = c.TapColumn * p.DilationW;
        bool inside = Inside(c.Row + dh, c.Column + dw) && c.TapRow < p.KernelHeight;
        int stride = RunLoads.Stride<TRuns>(p.YC);
        int o = c.Offset + (f * stride) + (dh * p.YH) + (dw * p.YW);
        int h = half * TiledGemm.HalfSliceDepth;
        return RunLoads.Load<TRuns>(dz, o + (h * stride), stride, count, inside, f + h, p.Filters);
    }

    private Float4 LoadB(TileCursor c, int count, int half)
    {
        int f = (c.Block * TiledGemm.SliceDepth) + c.DepthB;
        int index = (((((c.TapRow * p.KernelWidth) + c.TapColumn) * p.Filters) + f) * p.ChannelsPadded) + c.ColumnB;
        int h = half * TiledGemm.HalfSliceDepth;
        bool valid = f + h < p.Filters && c.ColumnB < p.ChannelsPadded && c.TapRow < p.KernelHeight;

        // ChannelsPadded and the column are multiples of 4 (of 2 for two columns): one 128-bit (64-bit) load.
        return RunLoads.Load<ContiguousRuns>(w, index + (h * p.ChannelsPadded), 1, count, valid, 0, 1);
    }

    public void Store(int problem, int m, int n0, Float4 values)
    {
        int perImage = p.InHeight * p.InWidth;
        if (m >= p.Batch * perImage)
        {
            return;
        }

        int n = m / perImage;
        int rest = m - (n * perImage);
        int i = rest / p.InWidth;
        int j = rest - (i * p.InWidth);
        int o = (n * p.XN) + (i * p.XH) + (j * p.XW) + (n0 * p.XC);
        StoreOne(o, n0, values.X);
        StoreOne(o + p.XC, n0 + 1, values.Y);
        StoreOne(o + (2 * p.XC), n0 + 2, values.Z);
        StoreOne(o + (3 * p.XC), n0 + 3, values.W);
    }

    private void StoreOne(int offset, int channel, float value)
    {
        if (channel < p.InChannels)
        {
            dx[offset] = value;
        }
    }

    private bool Inside(int oh, int ow) => IndexMath.Within(oh, p.OutHeight) && IndexMath.Within(ow, p.OutWidth);

    /// <summary>Input position m: the offset of its tap-0 output position in dz, and that position (far negative past the end).</summary>
    private void Locate(int m, out int offset, out int row, out int column)
    {
        int perImage = p.InHeight * p.InWidth;
        if (m >= p.Batch * perImage)
        {
            offset = 0;
            row = -(1 << 29);
            column = -(1 << 29);
            return;
        }

        int n = m / perImage;
        int rest = m - (n * perImage);
        int i = rest / p.InWidth;
        int j = rest - (i * p.InWidth);
        row = (i * p.StrideH) - p.CropTop;
        column = (j * p.StrideW) - p.CropLeft;
        offset = (n * p.YN) + (row * p.YH) + (column * p.YW);
    }
}

/// <summary>The input gradient's GEMM, apart from the types the program is closed over.</summary>
internal static class InputGradientTiledProgram
{
    /// <summary>Gets the GEMM's rows and columns, and its one problem, for choosing a tile.</summary>
    public static (long Rows, int Columns, int Problems) GemmSize(in Conv2DTransposeParams p) => ((long)p.Batch * p.InHeight * p.InWidth, p.InChannels, 1);

    /// <summary>Gets whether the output gradient's runs of filters are contiguous in <paramref name="dz"/> (<see cref="ContiguousRuns"/>).</summary>
    public static bool ContiguousRuns(in Conv2DTransposeParams p, ArrayView<float> dz) => RunLoads.Hold(p.YC, p.Filters, dz);
}
