using System;
using System.Collections.Generic;
using ILGPU.Runtime;

namespace ILGpuDeconv;

/// <summary>
/// The weight set of one named layer on one device: kernel and bias, their gradients, a version the
/// passes compare to know when to refresh the weight layouts they keep, and optimizer state. Layers created
/// with TensorFlow's <c>reuse</c> share one instance; <see cref="LayerWeightRegistry"/> frees it when the last
/// of them is disposed.
/// </summary>
internal sealed class LayerWeights : IDisposable
{
    private readonly Dictionary<object, OptimizerSlots> optimizerSlots = [];
    private bool disposed;

    /// <summary>Allocates zeroed weights; <paramref name="groups"/> splits the filters (the kernel holds <c>filters / groups</c> per group).</summary>
    public LayerWeights(DeconvDevice device, string name, TensorShape kernelShape, bool useBias, int groups = 1)
    {
        Device = device;
        Name = name;
        KernelShape = kernelShape;
        UseBias = useBias;
        int filters = kernelShape[2] * groups;
        Filters = filters;
        try
        {
            Kernel = DeviceBuffer.Allocate(device, kernelShape.ElementCount, $"the kernel of layer '{name}'");
            KernelGradient = DeviceBuffer.Allocate(device, kernelShape.ElementCount, $"the kernel gradient of layer '{name}'");
            Bias = DeviceBuffer.Allocate(device, useBias ? filters : 1, $"the bias of layer '{name}'");
            BiasGradient = DeviceBuffer.Allocate(device, useBias ? filters : 1, $"the bias gradient of layer '{name}'");
            Kernel.View.MemSetToZero();
            Bias.View.MemSetToZero();
            KernelGradient.View.MemSetToZero();
            BiasGradient.View.MemSetToZero();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public DeconvDevice Device { get; }

    public string Name { get; }

    public TensorShape KernelShape { get; }

    /// <summary>Gets the filters: the kernel's third axis times the groups.</summary>
    public int Filters { get; }

    public TensorShape BiasShape => new(Filters);

    public bool UseBias { get; }

    public DeviceBuffer Kernel { get; } = null!;

    public DeviceBuffer Bias { get; } = null!;

    public DeviceBuffer KernelGradient { get; } = null!;

    public DeviceBuffer BiasGradient { get; } = null!;

    /// <summary>Gets or sets a counter bumped whenever the kernel changes, so layers know to refresh their derived layouts.</summary>
    public long Version { get; set; }

    /// <summary>Gets or sets the kernel version last checked for infinite and NaN values, and whether all were finite (null before any check).</summary>
    public (long Version, bool Finite)? CheckedFinite { get; set; }

    /// <summary>Gets or sets a value indicating whether the gradient buffers hold a gradient (false until the first backward pass).</summary>
    public bool HasGradients { get; set; }

    /// <summary>Creates an optimizer's zeroed state buffers unless they exist; returns whether it created them.</summary>
    public bool EnsureSlots(object optimizer, int count)
    {
        // The layers' lock keeps a step from reaching freed weights; this is the last line should a caller forget it.
        ObjectDisposedException.ThrowIf(disposed, this);
        if (optimizerSlots.ContainsKey(optimizer))
        {
            return false;
        }

        optimizerSlots.Add(optimizer, new OptimizerSlots(this, count));
        return true;
    }

    /// <summary>Frees an optimizer's state buffers (a step that could not allocate all of them).</summary>
    public void RemoveSlots(object optimizer)
    {
        if (optimizerSlots.Remove(optimizer, out var slots))
        {
            slots.Dispose();
        }
    }

    /// <summary>Gets an optimizer's state buffers, made by <see cref="EnsureSlots"/> at the start of its step.</summary>
    public OptimizerSlots SlotsOf(object optimizer) => optimizerSlots[optimizer];

    public void Dispose()
    {
        disposed = true;
        Kernel?.Dispose();
        Bias?.Dispose();
        KernelGradient?.Dispose();
        BiasGradient?.Dispose();
        foreach (var slot in optimizerSlots.Values)
        {
            slot.Dispose();
        }

        optimizerSlots.Clear();
    }
}

/// <summary>One optimizer's state for one weight set: <c>count</c> buffers shaped like the kernel and as many like the bias, zeroed.</summary>
internal sealed class OptimizerSlots : IDisposable
{
    private readonly List<DeviceBuffer> buffers = [];

    public OptimizerSlots(LayerWeights weights, int count)
    {
        var kernel = new List<ILGPU.ArrayView<float>>();
        var bias = new List<ILGPU.ArrayView<float>>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                kernel.Add(Zeroed(weights, weights.KernelShape.ElementCount));
                bias.Add(Zeroed(weights, weights.BiasShape.ElementCount));
            }
        }
        catch
        {
            Dispose();
            throw;
        }

        Kernel = kernel;
        Bias = bias;
    }

    public IReadOnlyList<ILGPU.ArrayView<float>> Kernel { get; }

    public IReadOnlyList<ILGPU.ArrayView<float>> Bias { get; }

    public void Dispose()
    {
        foreach (var buffer in buffers)
        {
            buffer.Dispose();
        }

        buffers.Clear();
    }

    private ILGPU.ArrayView<float> Zeroed(LayerWeights weights, long length)
    {
        var buffer = DeviceBuffer.Allocate(weights.Device, length, $"optimizer state of layer '{weights.Name}'");
        buffers.Add(buffer);
        var view = buffer.View.SubView(0, length);
        view.MemSetToZero();
        return view;
    }
}
