using System;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Tensors;

/// <summary>Device tensors: round trips, wrapping a caller's view without owning it, memory accounting, and refusals.</summary>
public sealed class DeviceTensorTests
{
    [Test]
    public void Host_data_round_trips([ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        float[] data = [1f, -2f, float.NaN, float.PositiveInfinity, 0.5f, -0f];
        using var tensor = DeviceTensor.FromHost(device, data, new TensorShape(2, 3));
        Assert.That(tensor.OwnsBuffer, Is.True);
        Assert.That(tensor.ToArray(), Is.EqualTo(data));
        tensor.CopyFromHost([6f, 5f, 4f, 3f, 2f, 1f]);
        var back = new float[6];
        tensor.CopyToHost(back);
        Assert.That(back, Is.EqualTo(new[] { 6f, 5f, 4f, 3f, 2f, 1f }));
    }

    [Test]
    public void Allocation_is_counted_until_disposed()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        long before = device.AllocatedBytes;
        var tensor = DeviceTensor.Allocate(device, new TensorShape(10, 10));
        Assert.That(device.AllocatedBytes - before, Is.EqualTo(400));
        tensor.Dispose();
        Assert.That(tensor.IsDisposed, Is.True);
        Assert.That(device.AllocatedBytes, Is.EqualTo(before));
        Assert.Throws<ObjectDisposedException>(() => _ = tensor.View);
    }

    [Test]
    public void A_wrapped_view_is_used_in_place_and_left_to_its_owner()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        using var buffer = device.Accelerator.Allocate1D<float>(8);
        buffer.MemSetToZero();
        var tensor = DeviceTensor.Wrap(device, buffer.View, new TensorShape(2, 3));
        Assert.That(tensor.OwnsBuffer, Is.False);
        tensor.CopyFromHost([1f, 2f, 3f, 4f, 5f, 6f]);
        tensor.Dispose();
        Assert.That(buffer.GetAsArray1D(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f, 5f, 6f, 0f, 0f }), "written through the view; the buffer outlives the tensor");
    }

    [Test]
    public void Wrong_lengths_short_views_and_foreign_views_are_refused()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        using var other = DeconvDevice.Create(AcceleratorKind.Cpu);
        var shape = new TensorShape(2, 3);
        var length = Assert.Throws<ArgumentException>(() => DeviceTensor.FromHost(device, new float[5], shape).Dispose());
        Assert.That(length!.Message, Does.Contain("[2, 3]"));
        using var shortBuffer = device.Accelerator.Allocate1D<float>(5);
        Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(device, shortBuffer.View, shape).Dispose());
        using var foreign = other.Accelerator.Allocate1D<float>(6);
        Assert.Throws<ArgumentException>(() => DeviceTensor.Wrap(device, foreign.View, shape).Dispose());
        using var tensor = DeviceTensor.Allocate(device, shape);
        Assert.Throws<ArgumentException>(() => tensor.CopyToHost(new float[7]));
    }
}
