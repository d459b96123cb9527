using System;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Runtime;

namespace ILGpuDeconv.Passes;

/// <summary>
/// Whether every weight of the current version is finite, as the layout programs found: a one-element flag
/// on the device, read back at most once per weight version and only when the tiled programs ask (the read
/// waits for the stream).
/// </summary>
internal sealed class WeightFiniteness(DeconvDevice device, string purpose) : IDisposable
{
    private readonly ScratchBuffer flag = new(device, purpose);
    private static readonly float[] Zero = [0f];
    private readonly float[] host = new float[1];
    private bool? allFinite;

    /// <summary>Gets the flag's scratch need, for <see cref="ScratchBuffer.GrowAll"/>.</summary>
    public (ScratchBuffer Buffer, long Length) Need => (flag, 1);

    /// <summary>Clears the flag before a layout program runs for a new weight version, and forgets the last answer.</summary>
    public ArrayView<float> Reset(AcceleratorStream stream)
    {
        var view = flag.Get(1);
        view.CopyFromCPU(stream, Zero); // not MemSetToZero(stream): on PoCL that broke an OpenCL event's reference count
        allFinite = null;
        return view;
    }

    /// <summary>Gets whether the last layout program saw only finite weights.</summary>
    public bool AllFinite(AcceleratorStream stream)
    {
        if (allFinite is bool known)
        {
            return known;
        }

        flag.Get(1).CopyToCPU(stream, host);
        stream.Synchronize();
        allFinite = host[0] == 0f;
        return allFinite.Value;
    }

    public void Dispose() => flag.Dispose();
}
