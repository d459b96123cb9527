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
internal readonly struct InputGradientTiledProgram : ITiledProgram
{
    private readonly Conv2DTransposeParams p;
    private readonly ArrayView<float> dz;
    private readonly ArrayView<Float4> w;
    private readonly ArrayView<float> dx;
    private readonly int filterSlices;
    private readonly TileGrid grid;

    /// <summary>Describes the launch; <paramref name="w"/> is the input-gradient layout <c>[kh, kw, F, ChannelsPadded]</c>.</summary>
    public InputGradientTiledProgram(in Conv2DTransposeParams p, TileShape shape, ArrayView<float> dz, ArrayView<float> w, ArrayView<float> dx)
    {
        this.p = p;
        this.dz = dz;
        this.w = w.Cast<Float4>();
        this.dx = dx;
        filterSlices = (p.Filters + TiledGemm.SliceDepth - 1) / TiledGemm.SliceDepth;
        var (rows, columns) = GemmSize(p);
        grid = new TileGrid(
            checked((int)((rows + TiledGemm.Rows(shape) - 1) / TiledGemm.Rows(shape))),
            (columns + TiledGemm.Columns(shape) - 1) / TiledGemm.Columns(shape),
            1,
            shape);
    }

    /// <summary>Gets the GEMM's rows and columns, for choosing a tile.</summary>
    public static (long Rows, int Columns) GemmSize(in Conv2DTransposeParams p) => ((long)p.Batch * p.InHeight * p.InWidth, p.InChannels);

    public TileGrid Grid => grid;

    public int Rows(int problem) => p.Batch * p.InHeight * p.InWidth;

    public int Slices(int problem) => p.KernelTaps * filterSlices;

    public GatherState PrepareA(int problem, int m0, int count)
    {
        GatherState s = default;
        Locate(m0, out s.Offset0, out s.Row0, out s.Column0);
        Locate(m0 + 1, out s.Offset1, out s.Row1, out s.Column1);
        if (count > 2)
        {
            Locate(m0 + 2, out s.Offset2, out s.Row2, out s.Column2);
            Locate(m0 + 3, out s.Offset3, out s.Row3, out s.Column3);
        }

        return s;
    }

    public GatherState PrepareB(int problem, int n0, int count) => new() { Offset0 = n0 };

    public Float4 LoadA(GatherState rows, int problem, int slice, int kRow, int count)
    {
        int tap = slice / filterSlices;
        int f = ((slice - (tap * filterSlices)) * TiledGemm.SliceDepth) + kRow;
        Float4 v = default;
        if (f >= p.Filters)
        {
            return v;
        }

        int a = tap / p.KernelWidth;
        int b = tap - (a * p.KernelWidth);
        int dh = a * p.DilationH;
        int dw = b * p.DilationW;
        int delta = (f * p.YC) + (dh * p.YH) + (dw * p.YW);
        v.X = Inside(rows.Row0 + dh, rows.Column0 + dw) ? dz[rows.Offset0 + delta] : 0f;
        v.Y = Inside(rows.Row1 + dh, rows.Column1 + dw) ? dz[rows.Offset1 + delta] : 0f;
        if (count > 2)
        {
            v.Z = Inside(rows.Row2 + dh, rows.Column2 + dw) ? dz[rows.Offset2 + delta] : 0f;
            v.W = Inside(rows.Row3 + dh, rows.Column3 + dw) ? dz[rows.Offset3 + delta] : 0f;
        }

        return v;
    }

    public Float4 LoadB(GatherState columns, int problem, int slice, int kRow, int count)
    {
        int tap = slice / filterSlices;
        int f = ((slice - (tap * filterSlices)) * TiledGemm.SliceDepth) + kRow;
        int n0 = columns.Offset0;
        if (f >= p.Filters || n0 >= p.ChannelsPadded)
        {
            return default;
        }

        int index = (((tap * p.Filters) + f) * p.ChannelsPadded) + n0;
        if (count > 2)
        {
            return w.AsAligned(16)[index >> 2]; // ChannelsPadded and n0 are multiples of 4: one 128-bit load
        }

        var floats = w.Cast<float>();
        return new Float4(floats[index], floats[index + 1], 0f, 0f);
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
