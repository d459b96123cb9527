using ILGPU;

namespace ILGpuDeconv.Programs;

/// <summary>
/// A GPU program: the device code of one launch, as a readonly struct that carries its tensors (memory
/// accessors) and parameters and computes one work item at a time. "Program" is this library's word for
/// device code, so that "kernel" keeps TensorFlow's meaning, the layer's weights. Every program runs
/// through <see cref="GridStrideLoop.Run{TProgram}"/>, launched by <see cref="Launcher"/>.
/// </summary>
internal interface IGpuProgram
{
    /// <summary>Gets the number of work items of this launch (host side only).</summary>
    long Items { get; }

    /// <summary>Computes one work item.</summary>
    /// <param name="item">The item, in <c>[0, Items)</c>.</param>
    void Execute(int item);
}

/// <summary>The one entry point every program is compiled with: a grid-stride loop over its work items.</summary>
/// <remarks>
/// Not ILGPU.Algorithms' <c>IGridStrideKernelBody</c>, which this resembles: its launcher sizes the grid itself, and
/// on PoCL that automatic size is a single group of up to 4096 work items, which PoCL runs on one core. The
/// <see cref="Launcher"/> sizes every launch explicitly instead (groups of <see cref="Launcher.GpuGroupSize"/> on
/// GPUs and OpenCL, a few threads per core on ILGPU's CPU accelerator).
/// </remarks>
internal static class GridStrideLoop
{
    /// <summary>
    /// Each thread takes items <c>first, first + stride, ...</c>: the launch may have fewer threads than items
    /// (few on ILGPU's CPU accelerator, where each simulated thread has a fixed cost). The counter is 64-bit:
    /// with more than 2^30 items, <c>item + stride</c> could pass <see cref="int.MaxValue"/> and wrap.
    /// </summary>
    /// <typeparam name="TProgram">The program.</typeparam>
    /// <param name="grid">The launch's item count and stride.</param>
    /// <param name="program">The program, by value.</param>
    public static void Run<TProgram>(WorkGrid grid, TProgram program)
        where TProgram : struct, IGpuProgram
    {
        for (long item = Grid.GlobalIndex.X; item < grid.Total; item += grid.Stride)
        {
            program.Execute((int)item);
        }
    }
}
