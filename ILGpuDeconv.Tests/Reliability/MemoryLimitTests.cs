using System;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Reliability;

/// <summary>
/// Allocations that fail partway, made to fail with <see cref="DeconvDevice.MemoryLimit"/>: building the
/// weights, growing a pass's scratch space, staging host data. Each time: an
/// <see cref="InsufficientMemoryException"/>, <see cref="DeconvDevice.AllocatedBytes"/> back where it was, and
/// the layer still usable, with what its last Forward saved intact (its Backward equals an untouched twin's).
/// </summary>
public sealed class MemoryLimitTests
{
    private static readonly Conv2DTransposeOptions Options = new(4, 3) { Strides = 2, Padding = Padding.Same, Activation = Activation.Tanh };
    private static readonly TensorShape Small = new(1, 3, 3, 2);
    private static readonly TensorShape Large = new(2, 6, 5, 2);

    [Test]
    public void A_build_that_runs_out_of_memory_leaves_nothing_behind()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        using var layer = new Conv2DTranspose(device, Options);
        long before = device.AllocatedBytes;

        // Room for the kernel (3*3*4*2 floats) and not for its gradient.
        device.MemoryLimit = before + (3 * 3 * 4 * 2 * sizeof(float)) + 4;
        var ex = Assert.Throws<InsufficientMemoryException>(() => layer.Forward(new float[Small.ElementCount], Small));
        Assert.That(ex!.Message, Does.Contain("MemoryLimit"));
        Assert.That(device.AllocatedBytes, Is.EqualTo(before));
        Assert.That(layer.IsBuilt, Is.False);

        device.MemoryLimit = null;
        Assert.That(layer.Forward(new float[Small.ElementCount], Small), Has.Length.EqualTo(1 * 6 * 6 * 4));
        Assert.That(layer.IsBuilt, Is.True);
    }

    [TestCase(true, TestName = "Forward on host data past the limit changes nothing")]
    [TestCase(false, TestName = "Forward on device tensors past the limit changes nothing")]
    public void A_forward_whose_scratch_space_cannot_grow_changes_nothing(bool hostData)
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        var (layer, x, _) = Layers.Random(device, Options, Small, seed: 61);
        var (twin, _, _) = Layers.Random(device, Options, Small, seed: 61);
        using (layer)
        using (twin)
        {
            var upstream = RandomTensors.Uniform(new Random(62), layer.ComputeOutputShape(Small).ElementCount);
            layer.Forward(x, Small);
            twin.Forward(x, Small);
            var large = RandomTensors.Uniform(new Random(63), Large.ElementCount);
            using var largeInput = DeviceTensor.FromHost(device, large, Large);
            using var largeOutput = DeviceTensor.Allocate(device, layer.ComputeOutputShape(Large));

            // Room for the first buffer the call grows (the host input's staging) and not for the rest.
            long before = device.AllocatedBytes;
            device.MemoryLimit = before + (Large.ElementCount * sizeof(float));
            Assert.Throws<InsufficientMemoryException>(() =>
            {
                if (hostData)
                {
                    layer.Forward(large, Large);
                }
                else
                {
                    layer.Forward(largeInput, largeOutput);
                }
            });
            Assert.That(device.AllocatedBytes, Is.EqualTo(before));

            // The small call's saved state survived: its Backward equals the twin's.
            device.MemoryLimit = null;
            Assert.That(layer.Predict(x, Small), Is.EqualTo(twin.Predict(x, Small)));
            Assert.That(layer.Backward(upstream), Is.EqualTo(twin.Backward(upstream)));
            Assert.That(layer.GetGradients().Kernel, Is.EqualTo(twin.GetGradients().Kernel));
            Assert.That(layer.Forward(large, Large), Is.EqualTo(twin.Forward(large, Large)), "usable once memory allows");
        }
    }

    [Test]
    public void A_backward_whose_scratch_space_cannot_grow_changes_nothing()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        var (layer, x, _) = Layers.Random(device, Options with { KernelRegularizer = Regularizer.L2Penalty() }, Large, seed: 64);
        var (twin, _, _) = Layers.Random(device, Options with { KernelRegularizer = Regularizer.L2Penalty() }, Large, seed: 64);
        using (layer)
        using (twin)
        {
            var upstream = RandomTensors.Uniform(new Random(65), layer.ComputeOutputShape(Large).ElementCount);
            layer.Forward(x, Large);
            twin.Forward(x, Large);
            long before = device.AllocatedBytes;
            device.MemoryLimit = before;
            Assert.Throws<InsufficientMemoryException>(() => layer.Backward(upstream));
            Assert.That(device.AllocatedBytes, Is.EqualTo(before));
            Assert.Throws<InvalidOperationException>(() => layer.GetGradients(), "no gradients were written");

            device.MemoryLimit = null;
            Assert.That(layer.Backward(upstream), Is.EqualTo(twin.Backward(upstream)));
            Assert.That(layer.GetGradients().Kernel, Is.EqualTo(twin.GetGradients().Kernel));
        }
    }

    [Test]
    public void A_negative_limit_is_refused()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        Assert.Throws<ArgumentOutOfRangeException>(() => device.MemoryLimit = -1);
        Assert.That(device.MemoryLimit, Is.Null);
    }

    [Test]
    public void An_optimizer_step_that_runs_out_of_memory_changes_no_weight()
    {
        // Adam's state for the first layer fits, the second's does not: no layer may be updated, and the state
        // made for the first is released again.
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        var (first, x, _) = Layers.Random(device, Options, Small, seed: 66);
        var (second, _, _) = Layers.Random(device, Options, Small, seed: 67);
        using (first)
        using (second)
        {
            var upstream = RandomTensors.Uniform(new Random(68), first.ComputeOutputShape(Small).ElementCount);
            foreach (var layer in new[] { first, second })
            {
                layer.Forward(x, Small);
                layer.Backward(upstream);
            }

            var before = (first.GetWeights().Kernel, second.GetWeights().Kernel);
            long held = device.AllocatedBytes;
            long oneLayerState = 2L * ((3 * 3 * 4 * 2) + 4) * sizeof(float); // Adam's two slots for kernel and bias
            device.MemoryLimit = held + oneLayerState;
            var optimizer = new ILGpuDeconv.Adam();
            Assert.Throws<InsufficientMemoryException>(() => optimizer.Step(first, second));
            Assert.That(device.AllocatedBytes, Is.EqualTo(held));
            Assert.That((first.GetWeights().Kernel, second.GetWeights().Kernel), Is.EqualTo(before));
            Assert.That(optimizer.Iterations, Is.Zero);

            device.MemoryLimit = null;
            optimizer.Step(first, second);
            Assert.That(optimizer.Iterations, Is.EqualTo(1));
            Assert.That(first.GetWeights().Kernel, Is.Not.EqualTo(before.Item1));
        }
    }
}
