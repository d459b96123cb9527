using NUnit.Framework;

namespace ILGpuDeconv.Tests.Runtime;

/// <summary>Scratch buffers grow when a call needs more, are reused otherwise, and free their memory.</summary>
public sealed class ScratchBufferTests
{
    [Test]
    public void Grows_on_demand_reuses_and_frees()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        long start = device.AllocatedBytes;
        var scratch = new ScratchBuffer(device, "test");
        var first = scratch.Get(100);
        Assert.That(first.Length, Is.EqualTo(100));
        Assert.That(device.AllocatedBytes - start, Is.EqualTo(400));
        var smaller = scratch.Get(10);
        Assert.That(smaller.Length, Is.EqualTo(10));
        Assert.That(device.AllocatedBytes - start, Is.EqualTo(400), "a smaller request reuses the buffer");
        scratch.Get(1000);
        Assert.That(device.AllocatedBytes - start, Is.EqualTo(4000), "a larger one replaces it");
        Assert.That(scratch.Get(0).Length, Is.EqualTo(1), "at least one element");
        scratch.Dispose();
        Assert.That(device.AllocatedBytes, Is.EqualTo(start));
    }

    [Test]
    public void A_failed_growth_keeps_the_old_buffer()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        using var scratch = new ScratchBuffer(device, "test");
        scratch.Get(16);
        long held = device.AllocatedBytes;
        Assert.Throws<System.InsufficientMemoryException>(() => scratch.Get(long.MaxValue / 2), "more than any device holds, refused without overflow");
        Assert.That(device.AllocatedBytes, Is.EqualTo(held));
        Assert.That(scratch.Get(16).Length, Is.EqualTo(16));
    }
}
