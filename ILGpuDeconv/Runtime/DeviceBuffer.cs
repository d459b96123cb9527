using System;
using System.Threading;
using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv;

/// <summary>
/// A float buffer on a device's accelerator whose bytes are counted in <see cref="DeconvDevice.AllocatedBytes"/>
/// until it is disposed. Every allocation the library makes goes through here.
/// </summary>
internal sealed class DeviceBuffer : IDisposable
{
    private readonly DeconvDevice device;
    private MemoryBuffer1D<float, Stride1D.Dense>? buffer;

    private DeviceBuffer(DeconvDevice device, MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        this.device = device;
        this.buffer = buffer;
        Length = buffer.Length;
    }

    public long Length { get; }

    public ArrayView<float> View =>
        (buffer ?? throw new ObjectDisposedException(nameof(DeviceBuffer))).View;

    /// <summary>Allocates, turning the accelerator's failure into a clear <see cref="InsufficientMemoryException"/>.</summary>
    public static DeviceBuffer Allocate(DeconvDevice device, long length, string purpose)
    {
        using var call = device.EnterCall();
        long capacity = device.Accelerator.MemorySize;
        long bytes = Math.Max(1, length) > long.MaxValue / sizeof(float) ? long.MaxValue : Math.Max(1, length) * sizeof(float);
        if (bytes > capacity || bytes == long.MaxValue)
        {
            throw new InsufficientMemoryException(
                $"Allocating {bytes} bytes for {purpose} on {device.Info.Name} is impossible: the device has {capacity} bytes.");
        }

        // The bytes are counted before the allocation, atomically against the limit, so threads allocating
        // side by side cannot pass MemoryLimit together; a failed allocation gives them back.
        if (!device.TryReserve(bytes, out long limit))
        {
            throw new InsufficientMemoryException(
                $"Allocating {bytes} bytes for {purpose} on {device.Info.Name} would exceed the device's MemoryLimit of {limit} bytes ({device.AllocatedBytes} already held by ILGpuDeconv).");
        }

        try
        {
            return new DeviceBuffer(device, device.Accelerator.Allocate1D<float>(Math.Max(1, length)));
        }
        catch (Exception ex) when (ex is OutOfMemoryException or AcceleratorException or InvalidOperationException)
        {
            device.TrackAllocation(-bytes);
            throw new InsufficientMemoryException(
                $"Allocating {bytes} bytes for {purpose} on {device.Info.Name} failed ({device.AllocatedBytes} bytes already held by ILGpuDeconv): {ex.Message}",
                ex);
        }
    }

    /// <summary>
    /// Frees the buffer, once. Under a device lease, so the accelerator cannot go while ILGPU frees; once the
    /// device's Dispose has begun, an owned accelerator frees its buffers itself (ILGPU disposes an accelerator's
    /// child objects with it) and only the accounting is left, while a borrowed one lives on and frees it here.
    /// </summary>
    public void Dispose()
    {
        var owned = Interlocked.Exchange(ref buffer, null);
        if (owned is null)
        {
            return;
        }

        if (device.TryEnterCall())
        {
            try
            {
                owned.Dispose();
            }
            finally
            {
                device.ExitCall();
            }
        }
        else if (!device.OwnsAccelerator)
        {
            owned.Dispose();
        }

        device.TrackAllocation(-Length * sizeof(float));
    }
}
