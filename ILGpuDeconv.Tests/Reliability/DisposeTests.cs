using System;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>Dispose frees every device buffer; use after dispose is an <see cref="ObjectDisposedException"/>; impossible allocations fail cleanly.</summary>
public sealed class DisposeTests
{
    /// <summary>A fresh device of the kind the run tests, so its memory accounting starts at zero.</summary>
    private static DeconvDevice FreshDevice() => DeconvDevice.Create(TestAccelerators.Any().Kind);

    [Test]
    public void Disposing_layers_and_tensors_releases_every_device_buffer()
    {
        using var device = FreshDevice();
        Assert.That(device.AllocatedBytes, Is.Zero);
        var options = new Conv2DTransposeOptions(4, 3) { Strides = 2, Padding = Padding.Same, Activation = ILGpuDeconv.Activation.Gelu };
        var shape = new TensorShape(2, 5, 5, 3);
        var first = new Conv2DTranspose(device, options with { Name = "kept" });
        var second = new Conv2DTranspose(device, options with { Name = "kept", Reuse = true });
        var x = DeviceTensor.FromHost(device, new float[shape.ElementCount], shape);
        var y = first.Forward(x);
        var dy = DeviceTensor.Allocate(device, y.Shape);
        var dx = DeviceTensor.Allocate(device, shape);
        dy.CopyFromHost(new float[y.Length]);
        first.Backward(dy, dx);
        new Adam().Step(first);
        second.Forward(new float[shape.ElementCount], shape);
        second.Backward(new float[y.Length]);
        Assert.That(device.AllocatedBytes, Is.GreaterThan(0));

        foreach (var disposable in new IDisposable[] { first, x, y, dy, dx })
        {
            disposable.Dispose();
        }

        Assert.That(device.AllocatedBytes, Is.GreaterThan(0), "the reused weights live while the second layer does");
        second.Dispose();
        Assert.That(device.AllocatedBytes, Is.Zero, "every buffer was released");
    }

    [Test]
    public void A_disposed_layer_refuses_every_call()
    {
        var device = TestAccelerators.Any();
        var (layer, x, shape) = Layers.Random(device, new Conv2DTransposeOptions(2, 2), new TensorShape(1, 2, 2, 1), seed: 91);
        layer.Forward(x, shape);
        layer.Backward(new float[9 * 2]);
        layer.Dispose();
        layer.Dispose(); // twice is harmless
        Assert.Multiple(() =>
        {
            Assert.Throws<ObjectDisposedException>(() => layer.Forward(x, shape));
            Assert.Throws<ObjectDisposedException>(() => layer.Predict(x, shape));
            Assert.Throws<ObjectDisposedException>(() => layer.Backward(new float[18]));
            Assert.Throws<ObjectDisposedException>(() => layer.GetWeights());
            Assert.Throws<ObjectDisposedException>(() => layer.SetWeights(new float[4], new float[2]));
            Assert.Throws<ObjectDisposedException>(() => layer.Build(1));
            Assert.Throws<ObjectDisposedException>(() => new Sgd().Step(layer));
        });
    }

    [Test]
    public void A_disposed_tensor_or_device_refuses_use()
    {
        using (var device = FreshDevice())
        {
            var tensor = DeviceTensor.Allocate(device, new TensorShape(3));
            tensor.Dispose();
            Assert.Throws<ObjectDisposedException>(() => _ = tensor.View);
            Assert.Throws<ObjectDisposedException>(() => tensor.CopyFromHost(new float[3]));
        }

        var gone = FreshDevice();
        gone.Dispose();
        Assert.Multiple(() =>
        {
            Assert.Throws<ObjectDisposedException>(() => new Conv2DTranspose(gone, new Conv2DTransposeOptions(1, 1)).Dispose());
            Assert.Throws<ObjectDisposedException>(() => DeviceTensor.Allocate(gone, new TensorShape(2)).Dispose());
            Assert.Throws<ObjectDisposedException>(gone.Synchronize);
        });
    }

    [Test]
    public void An_allocation_larger_than_the_device_fails_clearly_and_leaks_nothing()
    {
        using var device = FreshDevice();
        using var small = DeviceTensor.Allocate(device, new TensorShape(16));
        long before = device.AllocatedBytes;
        var ex = Assert.Throws<InsufficientMemoryException>(() => DeviceTensor.Allocate(device, new TensorShape(1 << 20, 1 << 20)).Dispose());
        Assert.Multiple(() =>
        {
            Assert.That(ex!.Message, Does.Contain("4398046511104 bytes").And.Contain("[1048576, 1048576]"));
            Assert.That(device.AllocatedBytes, Is.EqualTo(before));
        });
        Assert.DoesNotThrow(() => small.CopyFromHost(new float[16]), "the device still works");
    }
}
