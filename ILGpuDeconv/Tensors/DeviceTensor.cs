using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace ILGpuDeconv;

/// <summary>
/// A dense float tensor in an accelerator's memory: a buffer (owned, or a view the caller owns) and its
/// shape. Layers read and write these without copies or synchronisation, so data stays on the device
/// between calls; copy to and from the host explicitly.
/// </summary>
/// <remarks>
/// Lifetime: <see cref="Dispose"/> waits for the calls using the tensor (a layer's call, a copy) to finish, and
/// from its start every new use throws <see cref="ObjectDisposedException"/>. Work a call launched asynchronously
/// is safe too: the accelerators keep a buffer until the work queued on it is done (ILGPU's CPU accelerator runs
/// each launch to its end before returning).
/// </remarks>
public sealed class DeviceTensor : IDisposable
{
    private readonly DeviceBuffer? owned;
    private readonly ArrayView<float> view;
    private readonly LifetimeGate gate;

    private DeviceTensor(DeconvDevice device, TensorShape shape, DeviceBuffer? owned, ArrayView<float> view)
    {
        Device = device;
        Shape = shape;
        this.owned = owned;
        this.view = view;
        gate = new LifetimeGate(this);
    }

    /// <summary>Gets the device whose accelerator holds the data.</summary>
    public DeconvDevice Device { get; }

    /// <summary>Gets the shape.</summary>
    public TensorShape Shape { get; }

    /// <summary>Gets the element count.</summary>
    public long Length => Shape.ElementCount;

    /// <summary>Gets a value indicating whether the tensor owns its buffer (false for <see cref="Wrap"/>).</summary>
    public bool OwnsBuffer => owned is not null;

    /// <summary>Gets a value indicating whether <see cref="Dispose"/> has begun on the tensor.</summary>
    public bool IsDisposed => gate.IsClosed;

    /// <summary>Gets the ILGPU view of the data, for the caller's own GPU programs.</summary>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    public ArrayView<float> View
    {
        get
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            return view;
        }
    }

    /// <summary>Allocates an uninitialised tensor on a device.</summary>
    /// <param name="device">The device.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The tensor; dispose it to free the memory.</returns>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InsufficientMemoryException">The device cannot hold it.</exception>
    public static DeviceTensor Allocate(DeconvDevice device, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(shape);
        using var call = device.EnterCall(); // the view is taken before the device can go
        var buffer = DeviceBuffer.Allocate(device, shape.ElementCount, $"a tensor of shape {shape}");
        return new DeviceTensor(device, shape, buffer, buffer.View.SubView(0, shape.ElementCount));
    }

    /// <summary>Allocates a tensor and copies host data into it.</summary>
    /// <param name="device">The device.</param>
    /// <param name="data">The values, row-major; as many as the shape holds.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="ArgumentException">The data length does not match the shape.</exception>
    public static DeviceTensor FromHost(DeconvDevice device, ReadOnlySpan<float> data, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        CheckLength(data, shape, nameof(data));
        var tensor = Allocate(device, shape);
        tensor.CopyFromHost(data);
        return tensor;
    }

    /// <summary>Wraps a view the caller owns; disposing the tensor leaves the view's buffer alone.</summary>
    /// <param name="device">The device whose accelerator holds the view.</param>
    /// <param name="view">The view; at least as long as the shape.</param>
    /// <param name="shape">The shape.</param>
    /// <returns>The tensor.</returns>
    /// <exception cref="ArgumentException">The view is shorter than the shape, or lives on another accelerator.</exception>
    public static DeviceTensor Wrap(DeconvDevice device, ArrayView<float> view, TensorShape shape)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(shape);
        if (view.Length < shape.ElementCount)
        {
            throw new ArgumentException(
                $"The view holds {view.Length} elements but the shape {shape} needs {shape.ElementCount}.", nameof(view));
        }

        if (view.GetAccelerator() != device.Accelerator)
        {
            throw new ArgumentException("The view lives on a different accelerator than the device.", nameof(view));
        }

        return new DeviceTensor(device, shape, null, view.SubView(0, shape.ElementCount));
    }

    /// <summary>Copies host data into the tensor (waits for the copy).</summary>
    /// <param name="source">The values; exactly as many as the tensor holds.</param>
    /// <exception cref="ArgumentException">The length differs from the tensor's.</exception>
    /// <exception cref="ObjectDisposedException">The tensor or its device was disposed.</exception>
    public void CopyFromHost(ReadOnlySpan<float> source)
    {
        CheckLength(source, Shape, nameof(source));
        using var use = Hold();
        using var call = Device.EnterCall();
        view.CopyFromCPU(Device.Accelerator.DefaultStream, source);
        Device.Accelerator.DefaultStream.Synchronize();
    }

    /// <summary>Copies the tensor to host memory, after the work launched before it finishes.</summary>
    /// <param name="destination">Where to write; exactly as long as the tensor.</param>
    /// <exception cref="ArgumentException">The length differs from the tensor's.</exception>
    /// <exception cref="ObjectDisposedException">The tensor or its device was disposed.</exception>
    public void CopyToHost(Span<float> destination)
    {
        CheckLength(destination, Shape, nameof(destination));
        using var use = Hold();
        using var call = Device.EnterCall();
        var stream = Device.Accelerator.DefaultStream;
        stream.Synchronize();
        view.CopyToCPU(stream, destination);
        stream.Synchronize();
    }

    /// <summary>Copies the tensor to a new host array.</summary>
    /// <returns>The values, row-major.</returns>
    public float[] ToArray()
    {
        var result = new float[checked((int)Length)];
        CopyToHost(result);
        return result;
    }

    /// <summary>Frees the buffer if the tensor owns it, once the calls using the tensor have finished; safe from any thread, more than once.</summary>
    public void Dispose() => gate.Close(() => owned?.Dispose());

    /// <inheritdoc/>
    public override string ToString() => $"DeviceTensor {Shape} on {Device.Kind}";

    /// <summary>
    /// Begins a use of the tensor by a call (a layer's pass, which holds its device's lease already): the tensor's
    /// <see cref="Dispose"/> waits until the returned lease is disposed.
    /// </summary>
    /// <exception cref="ObjectDisposedException">The tensor was disposed.</exception>
    internal LifetimeGate.Lease Hold() => gate.Enter();

    /// <summary>Takes a lease unless Dispose has begun (for a tensor a call may find gone); pair a true result with <see cref="Release"/>.</summary>
    internal bool TryHold() => gate.TryEnter();

    /// <summary>Ends a lease taken by <see cref="TryHold"/>.</summary>
    internal void Release() => gate.Exit();

    /// <summary>Checks that host values fill a shape exactly; a null array (which C# turns into an empty span) is named as null.</summary>
    /// <exception cref="ArgumentNullException">The values are a null array and the shape needs some.</exception>
    /// <exception cref="ArgumentException">The length differs from the shape's.</exception>
    internal static void CheckLength(ReadOnlySpan<float> values, TensorShape shape, string argumentName)
    {
        if (values.Length != shape.ElementCount)
        {
            ThrowIfNull(values, argumentName);
            throw new ArgumentException(
                $"{argumentName} holds {values.Length} values but the shape {shape} needs {shape.ElementCount}.", argumentName);
        }
    }

    /// <summary>
    /// Throws for a null array passed where values are expected: a null <c>float[]</c> becomes an empty span whose
    /// reference is null (an empty array's is not), which a length check alone would report as "0 values".
    /// </summary>
    /// <exception cref="ArgumentNullException">The span comes from a null array (or is <c>default</c>).</exception>
    internal static void ThrowIfNull(ReadOnlySpan<float> values, string argumentName)
    {
        if (values.IsEmpty && Unsafe.IsNullRef(ref MemoryMarshal.GetReference(values)))
        {
            throw new ArgumentNullException(argumentName, $"{argumentName} is null.");
        }
    }
}
