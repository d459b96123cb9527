using System;
using ILGPU;

namespace ILGpuDeconv.Runtime;

/// <summary>
/// One scratch buffer with one purpose, grown when a call needs more and never shrunk: repeated calls of
/// one shape allocate nothing (fresh pages cost far more than reuse). Passes keep one field per purpose.
/// </summary>
internal sealed class ScratchBuffer(DeconvDevice device, string purpose) : IDisposable
{
    private DeviceBuffer? buffer;

    /// <summary>Gets a view of exactly <paramref name="length"/> elements (at least 1), growing the buffer if needed.</summary>
    /// <exception cref="InsufficientMemoryException">The device cannot hold it; the previous buffer is kept.</exception>
    public ArrayView<float> Get(long length)
    {
        length = Math.Max(1, length);
        if (buffer is null || buffer.Length < length)
        {
            // Allocate the replacement before freeing the old buffer, so a failed allocation changes nothing.
            var grown = DeviceBuffer.Allocate(device, length, $"scratch space ({purpose})");
            buffer?.Dispose();
            buffer = grown;
        }

        return buffer.View.SubView(0, length);
    }

    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
    }
}
