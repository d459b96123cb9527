using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>The entry points of the tiled programs and what they share.</summary>
internal static partial class TiledGemm
{
    /// <summary>Threads per group of every tiled program.</summary>
    public const int GroupSize = 256;

    /// <summary>Gets the slices of a reduction of <paramref name="depth"/> terms.</summary>
    public static int SlicesOf(int depth) => (depth + SliceDepth - 1) / SliceDepth;

    /// <summary>
    /// Launch bounds for ptxas: 256 threads, at least two groups per multiprocessor, so that it keeps the
    /// register tile within 128 registers per thread (without them it took 138 and fit one group).
    /// </summary>
    public static KernelSpecialization Specialization => new(GroupSize, 2);

    /// <summary>One TF32 tensor-core step: <c>D = A B + D</c> for a 16x8 tile of D, k = 8, A row-major, B column-major (PTX ISA 7.0, sm_80).</summary>
    private const string Mma = "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};";

    /// <summary>The launch of a program: a group per block tile of each problem.</summary>
    public static KernelConfig Config(in TileGrid grid) => new(new Index3D(grid.RowTiles, grid.ColumnTiles, grid.Problems), new Index3D(GroupSize, 1, 1));

    /// <summary>
    /// Stores a thread's staged A values (<paramref name="count"/>, 4 or 2) at a float offset of a shared buffer: down
    /// the column of rows <paramref name="rowStride"/> floats apart for depth runs, else as <see cref="StageB"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StageA(ArrayView<float> shared, int offset, Float4 value, int count, bool depthRuns, int rowStride)
    {
        if (depthRuns)
        {
            // One sub-view, constant indices: one address, and [register + immediate] stores.
            var column = shared.SubView(offset, (count - 1) * rowStride + 1);
            column[0] = value.X;
            column[rowStride] = value.Y;
            if (count == 4)
            {
                column[2 * rowStride] = value.Z;
                column[3 * rowStride] = value.W;
            }
        }
        else
        {
            StageB(shared, offset, value, count);
        }
    }

    /// <summary>Stores a thread's run of <paramref name="count"/> (4 or 2) consecutive staged values at a float offset of a shared buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StageB(ArrayView<float> shared, int offset, Float4 value, int count)
    {
        if (count == 4)
        {
            shared.Cast<Float4>()[offset >> 2] = value; // one 128-bit store: the offset is a multiple of 4
        }
        else
        {
            shared[offset] = value.X;
            shared[offset + 1] = value.Y;
        }
    }
}

/// <summary>
/// The operands and the store of one implicit GEMM that <see cref="TiledGemm"/> runs: the program gathers
/// its tiles straight from the tensors (no im2col buffer), and may hold several independent problems (stride
/// phases, kernel taps, reduction splits), one per grid layer.
/// </summary>
/// <remarks>
/// Tiled programs hold <see cref="ArrayView{T}"/>s, not a <see cref="ITensorMemory"/> accessor as the direct
/// programs do: they stage through shared memory with 128-bit loads of <see cref="Float4"/> views, and they run only
/// where groups have 256 threads (GPUs, PoCL, and ILGPU's CPU accelerator configured so for tests), never on the
/// CPU accelerator the library makes, which is the one place the pointer accessor pays.
/// </remarks>
internal interface ITiledProgram
{
    /// <summary>Gets the launch (host side only).</summary>
    TileGrid Grid { get; }

    /// <summary>
    /// Gets whether each thread stages A as a run of consecutive depths (reduction indices) of one row, rather than
    /// a run of consecutive rows at one depth: the choice that makes a warp's loads contiguous for the program's
    /// usual layout (NHWC's channels). A constant of the program type, so the other staging is dead code.
    /// </summary>
    bool StagesDepthRuns { get; }

    /// <summary>Gets the output rows (M) of a problem.</summary>
    int Rows(int problem);

    /// <summary>Gets the reduction slices of a problem (its depth K in slices of <see cref="TiledGemm.SliceDepth"/>).</summary>
    int Slices(int problem);

    /// <summary>
    /// Starts a thread's walk over the slices: it stages A's run from row <paramref name="aRow"/> and depth
    /// <paramref name="aDepth"/> of each half slice and B's from column <paramref name="bColumn"/> at depth
    /// <paramref name="bDepth"/> (depths from 0 to <see cref="TiledGemm.HalfSliceDepth"/> - 1; the second half's are
    /// <see cref="TiledGemm.HalfSliceDepth"/> rows further down the staged slice). The cursor is at slice 0; every
    /// division the walk needs happens here.
    /// </summary>
    TileCursor Start(int problem, int aRow, int aDepth, int bColumn, int bDepth);

    /// <summary>
    /// The cursor at the next slice, by additions and selections only (no division in the main loop). The loop also
    /// takes one step past the last slice, whose loads must read zeros and touch no memory outside the tensors.
    /// </summary>
    TileCursor Next(TileCursor cursor);

    /// <summary>
    /// Loads the thread's <paramref name="countA"/> A values and <paramref name="countB"/> B values (4 or 2 each) of half
    /// <paramref name="half"/> (a constant, 0 or 1) of the cursor's slice; zero where they lie outside the GEMM. One call
    /// for both operands, so that what they share (a position, a bound) is computed once. The staged row of a depth is
    /// the program's choice, as long as A and B agree.
    /// </summary>
    TileRuns Load(TileCursor cursor, int countA, int countB, int half);

    /// <summary>Stores four results of row <paramref name="m"/>, columns <paramref name="n0"/> to <c>n0 + 3</c>; those outside the GEMM are dropped.</summary>
    void Store(int problem, int m, int n0, Float4 values);
}

/// <summary>A thread's staged runs of one half slice: A's and B's.</summary>
internal struct TileRuns
{
    public Float4 A;
    public Float4 B;

    public TileRuns(Float4 a, Float4 b)
    {
        A = a;
        B = b;
    }
}

/// <summary>Two floats, 8 bytes: one 64-bit load or store.</summary>
internal struct Float2
{
    public float X;
    public float Y;
}

/// <summary>Four floats, 16 bytes: one 128-bit load or store.</summary>
internal struct Float4
{
    public float X;
    public float Y;
    public float Z;
    public float W;

    public Float4(float x, float y, float z, float w)
    {
        X = x;
        Y = y;
        Z = z;
        W = w;
    }
}

/// <summary>
/// A thread's place in the walk over a tiled program's slices (<see cref="ITiledProgram.Start"/>, <see cref="ITiledProgram.Next"/>):
/// plain integers, registers on the device, whose meaning each program gives in its own <c>Start</c>. What does not
/// change from slice to slice is computed once there; what does is advanced by additions.
/// </summary>
internal struct TileCursor
{
    /// <summary>The offset of A's (or both operands') current element, or its base.</summary>
    public int Offset;

    /// <summary>A second offset (B's, where it is walked apart from A's).</summary>
    public int OffsetB;

    /// <summary>A position along the height: A's row at the first tap, or the walk's current row.</summary>
    public int Row;

    /// <summary>A position along the width.</summary>
    public int Column;

    /// <summary>The image of the walk's current position.</summary>
    public int Image;

    /// <summary>The slice's block within its tap (channels or filters), or the walk's linear position.</summary>
    public int Block;

    /// <summary>The slice's tap row.</summary>
    public int TapRow;

    /// <summary>The slice's tap column.</summary>
    public int TapColumn;

    /// <summary>A's depth within a slice (the first of its run).</summary>
    public int DepthA;

    /// <summary>B's depth within a slice.</summary>
    public int DepthB;

    /// <summary>B's column (the first of its run).</summary>
    public int ColumnB;

    /// <summary>A's row (the first of its run), where it is not folded into <see cref="Offset"/>.</summary>
    public int RowA;

    /// <summary>A per-problem constant: an extent (taps, rows of the walk).</summary>
    public int Extent0;

    /// <summary>A per-problem constant: an extent (columns of the walk).</summary>
    public int Extent1;

    /// <summary>A per-problem constant: an extent (positions of the walk).</summary>
    public int Extent2;

    /// <summary>A per-problem constant: a step of the walk (columns per slice).</summary>
    public int Step0;

    /// <summary>A per-problem constant: a step of the walk (rows per slice).</summary>
    public int Step1;

    /// <summary>A per-problem constant: a step of the walk (images per slice).</summary>
    public int Step2;

    /// <summary>
    /// The walk of the forward pass and the input gradient: the next of <paramref name="blocks"/> reduction blocks of the
    /// tap (<see cref="Block"/>), then the next tap column of <paramref name="tapColumns"/>, then the next tap row.
    /// </summary>
    public readonly TileCursor NextBlock(int blocks, int tapColumns)
    {
        var c = this;
        int block = c.Block + 1;
        bool nextTap = block == blocks;
        c.Block = nextTap ? 0 : block;
        int column = c.TapColumn + (nextTap ? 1 : 0);
        bool nextRow = column == tapColumns;
        c.TapColumn = nextRow ? 0 : column;
        c.TapRow += nextRow ? 1 : 0;
        return c;
    }
}

/// <summary>The grid of a tiled launch: block tiles along the rows and columns, and problems.</summary>
internal readonly record struct TileGrid(int RowTiles, int ColumnTiles, int Problems, TileShape Shape)
{
    /// <summary>Gets the grid of <paramref name="shape"/>'s block tiles that covers a GEMM of the given rows and columns in each problem.</summary>
    public static TileGrid Covering((long Rows, int Columns, int Problems) gemm, TileShape shape) => new(
        checked((int)((gemm.Rows + TiledGemm.Rows(shape) - 1) / TiledGemm.Rows(shape))),
        (gemm.Columns + TiledGemm.Columns(shape) - 1) / TiledGemm.Columns(shape),
        gemm.Problems,
        shape);
}
