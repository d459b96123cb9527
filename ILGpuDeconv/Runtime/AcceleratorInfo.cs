using System.Globalization;

namespace ILGpuDeconv;

/// <summary>What ILGPU reports about one accelerator.</summary>
/// <param name="Kind">The accelerator kind.</param>
/// <param name="Name">The device name.</param>
/// <param name="MemoryBytes">The device memory in bytes (ILGPU reports <see cref="long.MaxValue"/> for the CPU accelerator).</param>
/// <param name="WarpSize">The warp (or SIMD group) size.</param>
/// <param name="MaxGroupSize">The largest group (thread block) size.</param>
/// <param name="MultiprocessorCount">The number of multiprocessors (compute units).</param>
public sealed record AcceleratorInfo(
    AcceleratorKind Kind,
    string Name,
    long MemoryBytes,
    int WarpSize,
    int MaxGroupSize,
    int MultiprocessorCount)
{
    /// <summary>Formats the information on one line, e.g. <c>Cuda: NVIDIA H100 (79.1 GiB, warp 32, max group 1024, 132 SMs)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString()
    {
        string memory = MemoryBytes == long.MaxValue
            ? "host memory"
            : string.Create(CultureInfo.InvariantCulture, $"{MemoryBytes / (1024.0 * 1024 * 1024):F1} GiB");
        return string.Create(
            CultureInfo.InvariantCulture,
            $"{Kind}: {Name} ({memory}, warp {WarpSize}, max group {MaxGroupSize}, {MultiprocessorCount} multiprocessors)");
    }
}
