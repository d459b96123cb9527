using System;
using System.Collections.Concurrent;
using System.Collections.Generic;
using System.Linq;
using ILGPU.Runtime.CPU;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Infrastructure;

/// <summary>
/// The accelerator matrix: every accelerator test runs once per kind this run tests (<see cref="Tested"/>). A kind
/// whose device is missing, or that <see cref="EnvironmentVariable"/> leaves out, makes no test cases and is reported
/// once as ignored with the reason (<c>TestAcceleratorsTests</c>), never as passed; a test that asks for it anyway
/// (<see cref="Require"/>) is ignored with the reason. Devices are created once per test run, so each GPU program compiles once per accelerator.
/// </summary>
public static class TestAccelerators
{
    /// <summary>Restricts the matrix, e.g. <c>cpu,opencl</c>; unset means every kind.</summary>
    public const string EnvironmentVariable = "ILGPUDECONV_TEST_ACCELERATORS";

    private static readonly ConcurrentDictionary<AcceleratorKind, Lazy<DeconvDevice?>> Devices = new();
    private static readonly ConcurrentDictionary<AcceleratorKind, Lazy<(DeconvDevice Device, IDisposable? Context)>> TiledDevices = new();
    private static readonly ConcurrentDictionary<AcceleratorKind, Lazy<(DeconvDevice Device, IDisposable? Context)>> TensorCoreDevices = new();
    private static readonly ConcurrentDictionary<AcceleratorKind, Lazy<(DeconvDevice Device, IDisposable? Context)>> TunedDevices = new();
    private static readonly Lazy<IReadOnlyList<AcceleratorInfo>> Present = new(DeconvDevice.ListAccelerators);
    private static readonly List<DeconvDevice> CreationOrder = [];

    /// <summary>Records a device the run shares, for <see cref="Created"/>.</summary>
    private static DeconvDevice Track(DeconvDevice device)
    {
        lock (CreationOrder)
        {
            CreationOrder.Add(device);
        }

        return device;
    }

    /// <summary>Gets every kind of accelerator, tested or not.</summary>
    public static IEnumerable<AcceleratorKind> All => [AcceleratorKind.Cpu, AcceleratorKind.OpenCL, AcceleratorKind.Cuda];

    /// <summary>
    /// Gets the kinds this run tests, for <c>[ValueSource]</c> and <c>[TestCaseSource]</c>: those present on this machine
    /// and selected by <see cref="EnvironmentVariable"/>. A missing or left-out kind makes no test cases (the run would
    /// otherwise report a skip per test, about 1,800 here); <c>TestAcceleratorsTests</c> reports it once, with the reason.
    /// </summary>
    public static IEnumerable<AcceleratorKind> Tested => All.Where(k => Selected(k) && Present.Value.Any(info => info.Kind == k));

    /// <summary>Gets the device of a kind, or ignores the calling test with the reason it cannot run.</summary>
    public static DeconvDevice Require(AcceleratorKind kind)
    {
        if (!Selected(kind))
        {
            Assert.Ignore($"{kind} is left out by {EnvironmentVariable}={Environment.GetEnvironmentVariable(EnvironmentVariable)}");
        }

        if (!Present.Value.Any(info => info.Kind == kind))
        {
            Assert.Ignore($"no {kind} device on this machine (ILGPU lists: {string.Join("; ", Present.Value.Select(i => i.ToString()))})");
        }

        var device = Devices.GetOrAdd(kind, k => new Lazy<DeconvDevice?>(() => Track(DeconvDevice.Create(k)))).Value;
        return device!;
    }

    /// <summary>
    /// Gets a device of a kind that runs <see cref="ConvolutionAlgorithm.TiledGemm"/>, or ignores the calling test.
    /// A second device, so that tests of the default algorithm run beside it. For the CPU it is ILGPU's CPU
    /// accelerator configured for groups of 256 threads (one OS thread each: slow, for small shapes).
    /// </summary>
    public static DeconvDevice RequireTiled(AcceleratorKind kind)
    {
        Require(kind); // the same skip rules
        return TiledDevices.GetOrAdd(kind, k => new Lazy<(DeconvDevice, IDisposable?)>(() =>
        {
            if (k == AcceleratorKind.Cpu)
            {
                var context = ILGPU.Context.Create(b => DeconvDevice.ConfigureContext(b.CPU(new CPUDevice(32, 8, 1))));
                var accelerator = context.GetPreferredDevice(preferCPU: true).CreateAccelerator(context);
                var borrowed = Track(DeconvDevice.FromAccelerator(accelerator));
                borrowed.Algorithm = ConvolutionAlgorithm.TiledGemm;
                return (borrowed, new ContextOwner(context, accelerator, borrowed));
            }

            var device = Track(DeconvDevice.Create(k));
            device.Algorithm = ConvolutionAlgorithm.TiledGemm;
            return (device, null);
        })).Value.Device;
    }

    /// <summary>
    /// Gets a device of a kind in <see cref="ConvolutionAlgorithm.Tuned"/> mode whose candidates include the tiled
    /// programs (on the CPU, the accelerator configured for 256-thread groups), or ignores the calling test. Shared by
    /// the tests that pick candidates (<see cref="ConvolutionTuning"/>'s picker); they clear its table first.
    /// </summary>
    public static DeconvDevice RequireTuned(AcceleratorKind kind)
    {
        Require(kind);
        return TunedDevices.GetOrAdd(kind, k => new Lazy<(DeconvDevice, IDisposable?)>(() =>
        {
            var owned = CreateTiled(k);
            Track(owned.Device);
            owned.Device.Algorithm = ConvolutionAlgorithm.Tuned;
            return (owned.Device, owned);
        })).Value.Device;
    }

    /// <summary>
    /// Creates a new device of a kind that runs the tiled programs, with its own compiled programs and tuning table
    /// (dispose what is returned), or ignores the calling test when the kind is not here.
    /// </summary>
    public static OwnedDevice CreateTiled(AcceleratorKind kind)
    {
        Require(kind);
        if (kind != AcceleratorKind.Cpu)
        {
            var device = DeconvDevice.Create(kind);
            return new OwnedDevice(device, device);
        }

        var context = ILGPU.Context.Create(b => DeconvDevice.ConfigureContext(b.CPU(new CPUDevice(32, 8, 1))));
        var accelerator = context.GetPreferredDevice(preferCPU: true).CreateAccelerator(context);
        var borrowed = DeconvDevice.FromAccelerator(accelerator);
        return new OwnedDevice(borrowed, new ContextOwner(context, accelerator, borrowed));
    }

    /// <summary>
    /// Gets a device that runs the tiled programs' TF32 tensor-core loops, or ignores the calling test: CUDA with
    /// tensor cores (compute capability 8.0 and above); on the CPU accelerator a third device, whose loops run the
    /// emulation of the <c>mma.sync</c> step (same fragments, scalar arithmetic). Not OpenCL: ILGPU's OpenCL code
    /// generator refuses the loops, so TF32 there is the rounded-operand emulation only.
    /// </summary>
    public static DeconvDevice RequireTensorCores(AcceleratorKind kind)
    {
        var tiled = RequireTiled(kind);
        if (kind == AcceleratorKind.OpenCL)
        {
            Assert.Ignore("ILGPU's OpenCL code generator refuses the tensor-core loops; OpenCL runs TF32 as rounded operands on the float32 programs");
        }

        if (kind == AcceleratorKind.Cuda)
        {
            if (!tiled.UsesTensorCores)
            {
                Assert.Ignore($"{tiled.Info.Name} has no TF32 tensor cores (compute capability below 8.0)");
            }

            return tiled;
        }

        return TensorCoreDevices.GetOrAdd(kind, k => new Lazy<(DeconvDevice Device, IDisposable? Context)>(() =>
        {
            var context = ILGPU.Context.Create(b => DeconvDevice.ConfigureContext(b.CPU(new CPUDevice(32, 8, 1))));
            var accelerator = context.GetPreferredDevice(preferCPU: true).CreateAccelerator(context);
            var borrowed = Track(DeconvDevice.FromAccelerator(accelerator));
            borrowed.Algorithm = ConvolutionAlgorithm.TiledGemm;
            borrowed.EmulatesTensorCores = true;
            return (borrowed, new ContextOwner(context, accelerator, borrowed));
        })).Value.Device;
    }

    /// <summary>
    /// Gets the first selected device (CPU on a plain host, OpenCL inside the PoCL root), for tests about
    /// the API rather than about one accelerator; ignores the test when none is selected.
    /// </summary>
    public static DeconvDevice Any()
    {
        var kind = All.Reverse().FirstOrDefault(k => Selected(k) && Present.Value.Any(i => i.Kind == k), AcceleratorKind.Cpu);
        return Require(kind);
    }

    /// <summary>Whether the environment selects a kind.</summary>
    public static bool Selected(AcceleratorKind kind)
    {
        string? filter = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(filter))
        {
            return true;
        }

        return filter.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Any(name => DeconvDevice.ParseKind(name, EnvironmentVariable) == kind);
    }

    /// <summary>Gets every device created for the run so far, in the order of creation (for the memory check of each test).</summary>
    internal static IEnumerable<DeconvDevice> Created
    {
        get
        {
            lock (CreationOrder)
            {
                return [.. CreationOrder];
            }
        }
    }

    /// <summary>Disposes every device created for the run.</summary>
    internal static void DisposeAll()
    {
        lock (CreationOrder)
        {
            CreationOrder.Clear();
        }

        foreach (var device in Devices.Values.Where(d => d.IsValueCreated))
        {
            device.Value?.Dispose();
        }

        Devices.Clear();
        foreach (var entry in TiledDevices.Values.Concat(TensorCoreDevices.Values).Concat(TunedDevices.Values).Where(d => d.IsValueCreated))
        {
            if (entry.Value.Context is IDisposable owner)
            {
                owner.Dispose();
            }
            else
            {
                entry.Value.Device.Dispose();
            }
        }

        TiledDevices.Clear();
        TensorCoreDevices.Clear();
        TunedDevices.Clear();
    }

    /// <summary>A device made for one test, and what releases it (and its context, on the CPU).</summary>
    public sealed class OwnedDevice(DeconvDevice device, IDisposable owner) : IDisposable
    {
        public DeconvDevice Device { get; } = device;

        public void Dispose() => owner.Dispose();
    }

    private sealed class ContextOwner(ILGPU.Context context, ILGPU.Runtime.Accelerator accelerator, DeconvDevice device) : IDisposable
    {
        public void Dispose()
        {
            device.Dispose();
            accelerator.Dispose();
            context.Dispose();
        }
    }
}
