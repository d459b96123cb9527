using System;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Runtime;

/// <summary>TensorFlow's name and reuse rules.</summary>
public sealed class ReuseTests
{
    private static DeconvDevice Device => TestAccelerators.Any();

    [Test]
    public void Reuse_shares_one_set_of_weights()
    {
        var options = new Conv2DTransposeOptions(2, 3) { Name = "shared-" + Guid.NewGuid().ToString("N") };
        using var first = new Conv2DTranspose(Device, options);
        first.Build(4);
        using var second = new Conv2DTranspose(Device, options with { Reuse = true });
        Assert.That(second.IsBuilt, "the weights exist already");
        var kernel = RandomTensors.Uniform(new Random(1), 3 * 3 * 2 * 4);
        first.SetWeights(kernel, new float[2]);
        Assert.That(second.GetWeights().Kernel, Is.EqualTo(kernel));

        var x = RandomTensors.Uniform(new Random(2), 2 * 2 * 4);
        var shape = new TensorShape(1, 2, 2, 4);
        Assert.That(second.Predict(x, shape), Is.EqualTo(first.Predict(x, shape)));
    }

    [Test]
    public void One_optimizer_step_updates_shared_weights_once()
    {
        var options = new Conv2DTransposeOptions(1, 1) { Name = "step-" + Guid.NewGuid().ToString("N"), UseBias = false };
        using var first = new Conv2DTranspose(Device, options);
        using var second = new Conv2DTranspose(Device, options with { Reuse = true });
        first.SetWeights([1f], ReadOnlySpan<float>.Empty);
        first.Forward([1f], new TensorShape(1, 1, 1, 1));
        first.Backward([1f]); // d(sum y)/dw = x = 1
        new Sgd(0.5f).Step(first, second);
        Assert.That(first.GetWeights().Kernel, Is.EqualTo(new[] { 0.5f }));
    }

    [Test]
    public void A_duplicate_name_without_reuse_is_an_error()
    {
        var options = new Conv2DTransposeOptions(2, 3) { Name = "taken-" + Guid.NewGuid().ToString("N") };
        using var first = new Conv2DTranspose(Device, options);
        var device = Device;
        var ex = Assert.Throws<ArgumentException>(() => new Conv2DTranspose(device, options).Dispose());
        Assert.That(ex!.Message, Does.Contain(options.Name).And.Contain("Reuse"));
    }

    [Test]
    public void Reuse_of_an_unknown_name_is_an_error()
    {
        var device = Device;
        var ex = Assert.Throws<ArgumentException>(() => new Conv2DTranspose(device, new Conv2DTransposeOptions(2, 3) { Name = "nobody", Reuse = true }).Dispose());
        Assert.That(ex!.Message, Does.Contain("nobody").And.Contain("no such layer"));
    }

    [Test]
    public void Reuse_with_another_kernel_shape_is_an_error()
    {
        var options = new Conv2DTransposeOptions(2, 3) { Name = "shape-" + Guid.NewGuid().ToString("N") };
        using var first = new Conv2DTranspose(Device, options);
        first.Build(4);
        var device = Device;
        var ex = Assert.Throws<ArgumentException>(() => new Conv2DTranspose(device, options with { Reuse = true, KernelSize = 2 }).Dispose());
        Assert.That(ex!.Message, Does.Contain("[2, 2, 2, in_channels]").And.Contain("[3, 3, 2, 4]"));
        Assert.That(first.GetWeights().Kernel, Has.Length.EqualTo(3 * 3 * 2 * 4), "the first layer is unaffected");
    }

    [Test]
    public void The_name_is_free_again_after_the_last_layer_is_disposed()
    {
        var options = new Conv2DTransposeOptions(2, 3) { Name = "free-" + Guid.NewGuid().ToString("N") };
        var first = new Conv2DTranspose(Device, options);
        var second = new Conv2DTranspose(Device, options with { Reuse = true });
        first.Build(1);
        first.Dispose();
        Assert.That(second.GetWeights().Kernel, Has.Length.EqualTo(9 * 2), "the weights live while a layer uses them");
        second.Dispose();
        using var third = new Conv2DTranspose(Device, options);
        Assert.That(third.IsBuilt, Is.False, "a new layer of that name gets new weights");
    }

    [Test]
    public void Unnamed_layers_get_unique_Keras_style_names()
    {
        using var a = new Conv2DTranspose(Device, new Conv2DTransposeOptions(1, 1));
        using var b = new Conv2DTranspose(Device, new Conv2DTransposeOptions(1, 1));
        Assert.Multiple(() =>
        {
            Assert.That(a.Name, Does.StartWith("conv2d_transpose"));
            Assert.That(b.Name, Is.Not.EqualTo(a.Name));
        });
    }
}
