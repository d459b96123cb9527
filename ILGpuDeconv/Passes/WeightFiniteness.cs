using System;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv.Passes;

/// <summary>
/// Whether every weight of the kernel's current version is finite, which the tiled programs need: checked
/// on the device by <see cref="NonFiniteCheckProgram{TMem}"/> and read back (the read waits for the stream)
/// at most once per weight version, whichever pass asks first; the answer is kept on the weights.
/// </summary>
internal sealed class WeightFiniteness(DeconvDevice device, string purpose) : IDisposable
{
    private static readonly float[] Zero = [0f];
    private readonly ScratchBuffer flag = new(device, purpose);
    private readonly float[] host = new float[1];

    /// <summary>Gets the flag's scratch need, for <see cref="ScratchBuffer.GrowAll"/>.</summary>
    public (ScratchBuffer Buffer, long Length) Need => (flag, 1);

    /// <summary>Gets whether the kernel holds only finite values, checking it when its version has not been checked.</summary>
    public bool AllFinite<TMem>(LayerWeights weights, AcceleratorStream stream)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        if (weights.CheckedFinite is { } known && known.Version == weights.Version)
        {
            return known.Finite;
        }

        var view = flag.Get(1);
        view.CopyFromCPU(stream, Zero); // not MemSetToZero(stream): on PoCL that broke an OpenCL event's reference count
        device.Launcher.Launch(stream, new NonFiniteCheckProgram<TMem>(weights.KernelShape.ElementCount, TMem.Bind(weights.Kernel.View), TMem.Bind(view)));
        view.CopyToCPU(stream, host);
        stream.Synchronize();
        weights.CheckedFinite = (weights.Version, host[0] == 0f);
        return host[0] == 0f;
    }

    public void Dispose() => flag.Dispose();
}
