using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>The entry points of the tiled programs and what they share.</summary>
internal static partial class TiledGemm
{
    /// <summary>Threads per group of every tiled program.</summary>
    public const int GroupSize = 256;

    /// <summary>The reduction depth of one staged slice.</summary>
    public const int SliceDepth = 8;

    /// <summary>
    /// Launch bounds for ptxas: 256 threads, at least two groups per multiprocessor, so that it keeps the
    /// register tile within 128 registers per thread (without them it took 138 and fit one group).
    /// </summary>
    public static KernelSpecialization Specialization => new(GroupSize, 2);

    /// <summary>One TF32 tensor-core step: <c>D = A B + D</c> for a 16x8 tile of D, k = 8, A row-major, B column-major (PTX ISA 7.0, sm_80).</summary>
    private const string Mma = "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};";

    /// <summary>The launch of a program: a group per block tile of each problem.</summary>
    public static KernelConfig Config(in TileGrid grid) => new(new Index3D(grid.RowTiles, grid.ColumnTiles, grid.Problems), new Index3D(GroupSize, 1, 1));

    /// <summary>Stores <paramref name="count"/> (4 or 2) staged values at a float offset of a shared buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Stage(ArrayView<Float4> shared, int floatOffset, Float4 value, int count)
    {
        if (count == 4)
        {
            shared[floatOffset >> 2] = value; // one 128-bit store: the offset is a multiple of 4
        }
        else
        {
            var floats = shared.Cast<float>();
            floats[floatOffset] = value.X;
            floats[floatOffset + 1] = value.Y;
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

    /// <summary>Gets the output rows (M) of a problem.</summary>
    int Rows(int problem);

    /// <summary>Gets the reduction slices of a problem (its depth K in slices of <see cref="TiledGemm.SliceDepth"/>).</summary>
    int Slices(int problem);

    /// <summary>What a thread keeps about the <paramref name="count"/> consecutive A rows from <paramref name="m0"/> it stages.</summary>
    GatherState PrepareA(int problem, int m0, int count);

    /// <summary>What a thread keeps about the <paramref name="count"/> consecutive B columns from <paramref name="n0"/> it stages.</summary>
    GatherState PrepareB(int problem, int n0, int count);

    /// <summary>Loads row <paramref name="kRow"/> of a slice for the prepared A rows; zero where they lie outside the GEMM.</summary>
    Float4 LoadA(GatherState rows, int problem, int slice, int kRow, int count);

    /// <summary>Loads row <paramref name="kRow"/> of a slice for the prepared B columns; zero where they lie outside the GEMM.</summary>
    Float4 LoadB(GatherState columns, int problem, int slice, int kRow, int count);

    /// <summary>Stores four results of row <paramref name="m"/>, columns <paramref name="n0"/> to <c>n0 + 3</c>; those outside the GEMM are dropped.</summary>
    void Store(int problem, int m, int n0, Float4 values);
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
/// A thread's precomputed addressing of the up to four rows (or columns) it stages: a base offset and a
/// position per row. Computed once per launch, so the slice loop does no index division for them.
/// </summary>
internal struct GatherState
{
    public int Offset0;
    public int Offset1;
    public int Offset2;
    public int Offset3;
    public int Row0;
    public int Row1;
    public int Row2;
    public int Row3;
    public int Column0;
    public int Column1;
    public int Column2;
    public int Column3;
}

/// <summary>The grid of a tiled launch: block tiles along the rows and columns, and problems.</summary>
internal readonly record struct TileGrid(int RowTiles, int ColumnTiles, int Problems, TileShape Shape);
