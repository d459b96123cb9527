using System;
using System.Collections.Concurrent;

namespace ILGpuDeconv.Runtime;

/// <summary>
/// Loads each kernel class once per accelerator (ILGPU compiles on load) and hands the same instance to
/// every layer on that device. Keys are the kernel classes' closed generic types.
/// </summary>
internal sealed class KernelCache : IDisposable
{
    private readonly DeconvDevice device;
    private readonly ConcurrentDictionary<Type, Lazy<object>> kernels = new();

    public KernelCache(DeconvDevice device) => this.device = device;

    public T Get<T>(Func<ILGPU.Runtime.Accelerator, T> load)
        where T : class
    {
        device.ThrowIfDisposed();
        var entry = kernels.GetOrAdd(
            typeof(T),
            _ => new Lazy<object>(() => load(device.Accelerator), System.Threading.LazyThreadSafetyMode.ExecutionAndPublication));
        return (T)entry.Value;
    }

    public void Dispose() => kernels.Clear();
}
