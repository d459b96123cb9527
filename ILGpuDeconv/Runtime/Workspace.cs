using System;
using System.Collections.Generic;
using ILGPU;

namespace ILGpuDeconv.Runtime;

/// <summary>
/// Scratch buffers a layer keeps between calls, one per purpose, grown when a call needs more and never
/// shrunk: repeated calls of one shape allocate nothing (fresh pages cost far more than reuse).
/// </summary>
internal sealed class Workspace : IDisposable
{
    private readonly DeconvDevice device;
    private readonly Dictionary<string, DeviceBuffer> buffers = new(StringComparer.Ordinal);

    public Workspace(DeconvDevice device) => this.device = device;

    /// <summary>Gets a view of at least <paramref name="length"/> elements for <paramref name="purpose"/>, exactly that long.</summary>
    public ArrayView<float> Get(string purpose, long length)
    {
        length = Math.Max(1, length);
        if (!buffers.TryGetValue(purpose, out var buffer) || buffer.Length < length)
        {
            // Allocate the replacement before freeing the old buffer, so a failed allocation leaves the workspace as it was.
            var grown = DeviceBuffer.Allocate(device, length, $"scratch space ({purpose})");
            buffer?.Dispose();
            buffers[purpose] = buffer = grown;
        }

        return buffer.View.SubView(0, length);
    }

    public void Dispose()
    {
        foreach (var buffer in buffers.Values)
        {
            buffer.Dispose();
        }

        buffers.Clear();
    }
}
