using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv.Programs.Tiled;

/// <summary>
/// How a tiled program reads a thread's run of 4 (or 2) operand values along a tensor's channels or filters: with one
/// 128-bit (64-bit) load where they lie at consecutive, aligned addresses (<see cref="ContiguousRuns"/>), else one load
/// per value (<see cref="StridedRuns"/>). A type argument of the programs, so each is compiled with one kind of load
/// only: the scalar loads, their address arithmetic and their bounds checks were most of the main loops' non-math
/// instructions (tools/gpu/issue_slots.py).
/// </summary>
internal interface IRunLoads
{
    /// <summary>Gets a value indicating whether runs are consecutive and aligned (a constant of the type).</summary>
    bool Contiguous { get; }
}

/// <summary>
/// Runs at consecutive addresses: NHWC tensors (channels innermost), whose channels (or filters) per group are a
/// multiple of 4, in views that start at a multiple of 4 floats (<see cref="RunLoads.Hold"/>). A run then starts at a
/// multiple of its length, so it is whole inside the channels or wholly past them.
/// </summary>
internal readonly struct ContiguousRuns : IRunLoads
{
    /// <summary>Gets true.</summary>
    public bool Contiguous => true;
}

/// <summary>Runs of values a stride apart (NCHW, or channels not a multiple of 4): one bounds-checked load per value.</summary>
internal readonly struct StridedRuns : IRunLoads
{
    /// <summary>Gets false.</summary>
    public bool Contiguous => false;
}

/// <summary>The loads of <see cref="IRunLoads"/>.</summary>
internal static class RunLoads
{
    /// <summary>
    /// Gets whether a tensor's runs along an axis of <paramref name="stride"/> and <paramref name="length"/> values are
    /// contiguous in <paramref name="view"/> (host side, when a program is launched).
    /// </summary>
    public static bool Hold(int stride, int length, ArrayView<float> view) => Fit(stride, length) && ((IContiguousArrayView)view).Index % 4 == 0;

    /// <summary>
    /// Gets whether an axis of <paramref name="stride"/> and <paramref name="length"/> values allows contiguous runs at
    /// all: the sizes' half of <see cref="Hold"/>, without the view's alignment (known only at the launch).
    /// </summary>
    public static bool Fit(int stride, int length) => stride == 1 && length % 4 == 0;

    /// <summary>The distance between a run's values: 1 for contiguous runs (a constant the compiler folds), else <paramref name="stride"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Stride<TRuns>(int stride)
        where TRuns : struct, IRunLoads => default(TRuns).Contiguous ? 1 : stride;

    /// <summary>
    /// Loads the run of <paramref name="count"/> (4 or 2) values from offset <paramref name="offset"/> of
    /// <paramref name="view"/>, the <c>i</c>-th at <c>offset + i * stride</c>: each where <paramref name="inside"/> and
    /// its index <c>first + i</c> is below <paramref name="limit"/>, else zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Float4 Load<TRuns>(ArrayView<float> view, int offset, int stride, int count, bool inside, int first, int limit)
        where TRuns : struct, IRunLoads
    {
        if (default(TRuns).Contiguous)
        {
            // first and limit are multiples of the run's length: the whole run is in, or none of it. A run that is
            // not loads the view's first one instead (the tensor holds at least 4 values) and is then zeroed: no
            // branch, so the compilers keep one straight line of loads and share the address arithmetic around them.
            bool whole = inside && first < limit;
            if (count == 4)
            {
                var run = view.Cast<Float4>().AsAligned(16)[whole ? offset >> 2 : 0];
                return whole ? run : default;
            }

            var pair = view.Cast<Float2>().AsAligned(8)[whole ? offset >> 1 : 0];
            return whole ? new Float4(pair.X, pair.Y, 0f, 0f) : default;
        }

        Float4 v = default;
        v.X = inside && first < limit ? view[offset] : 0f;
        v.Y = inside && first + 1 < limit ? view[offset + stride] : 0f;
        if (count > 2)
        {
            v.Z = inside && first + 2 < limit ? view[offset + (2 * stride)] : 0f;
            v.W = inside && first + 3 < limit ? view[offset + (3 * stride)] : 0f;
        }

        return v;
    }
}
