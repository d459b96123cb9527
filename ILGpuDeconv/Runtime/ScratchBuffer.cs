using System;
using System.Collections.Generic;
using ILGPU;

namespace ILGpuDeconv;

/// <summary>
/// One scratch buffer with one purpose, grown when a call needs more and never shrunk: repeated calls of
/// one shape allocate nothing (fresh pages cost far more than reuse). Passes keep one field per purpose and
/// grow theirs together with <see cref="GrowAll"/>, so a call whose memory cannot be had changes nothing.
/// </summary>
internal sealed class ScratchBuffer(DeconvDevice device, string purpose) : IDisposable
{
    [System.Diagnostics.CodeAnalysis.SuppressMessage("Usage", "CA2213", Justification = "The device outlives its scratch buffers; the layer does not own it.")]
    private readonly DeconvDevice device = device;
    private readonly string purpose = purpose;
    private DeviceBuffer? buffer;

    /// <summary>Gets the capacity in elements (0 before the first use).</summary>
    public long Capacity => buffer?.Length ?? 0;

    /// <summary>
    /// Grows every buffer that is shorter than its need, all or none: when an allocation fails, the buffers
    /// allocated so far are freed and the old ones kept, and <see cref="DeconvDevice.AllocatedBytes"/> is where
    /// it was. The old buffers are freed when the returned growth is committed; disposing it uncommitted
    /// restores them (for a later step of the same call that fails).
    /// </summary>
    /// <exception cref="InsufficientMemoryException">The device cannot hold the new buffers.</exception>
    public static Growth GrowAll(IEnumerable<(ScratchBuffer Buffer, long Length)> needs)
    {
        var growth = new Growth();
        try
        {
            foreach (var (scratch, needed) in needs)
            {
                long length = Math.Max(1, needed);
                if (scratch.Capacity < length)
                {
                    var fresh = DeviceBuffer.Allocate(scratch.device, length, $"scratch space ({scratch.purpose})");
                    growth.Add(scratch, scratch.buffer, fresh);
                    scratch.buffer = fresh;
                }
            }

            return growth;
        }
        catch
        {
            growth.Dispose();
            throw;
        }
    }

    /// <summary>Gets a view of exactly <paramref name="length"/> elements (at least 1), growing the buffer if needed.</summary>
    /// <exception cref="InsufficientMemoryException">The device cannot hold it; the previous buffer is kept.</exception>
    public ArrayView<float> Get(long length)
    {
        length = Math.Max(1, length);
        if (buffer is null || buffer.Length < length)
        {
            using var growth = GrowAll([(this, length)]);
            growth.Commit();
        }

        return buffer!.View.SubView(0, length);
    }

    public void Dispose()
    {
        buffer?.Dispose();
        buffer = null;
    }

    /// <summary>Buffers grown by one call: committed (old buffers freed) or rolled back (new ones freed, old ones back).</summary>
    internal sealed class Growth : IDisposable
    {
        private readonly List<(ScratchBuffer Scratch, DeviceBuffer? Old, DeviceBuffer Fresh)> changes = [];
        private bool committed;

        public void Commit()
        {
            foreach (var change in changes)
            {
                change.Old?.Dispose();
            }

            committed = true;
        }

        public void Dispose()
        {
            if (committed)
            {
                return;
            }

            for (int i = changes.Count - 1; i >= 0; i--)
            {
                var (scratch, old, fresh) = changes[i];
                scratch.buffer = old;
                fresh.Dispose();
            }

            changes.Clear();
        }

        internal void Add(ScratchBuffer scratch, DeviceBuffer? old, DeviceBuffer fresh) => changes.Add((scratch, old, fresh));
    }
}
