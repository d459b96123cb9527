using System;
using System.Linq;
using System.Threading.Tasks;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests;

/// <summary>
/// The public API paths other tests do not take: device tensors end to end against the host convenience
/// API (bit for bit: the same programs run), the layer on <see cref="DeconvDevice.Shared"/>, and the
/// accelerator chosen by <see cref="DeconvDevice.EnvironmentVariable"/>.
/// </summary>
public sealed class Conv2DTransposeTests
{
    private static readonly Conv2DTransposeOptions Options = new(5, 3) { Strides = 2, Padding = Padding.Same, Activation = Activation.Gelu };

    [Test]
    public void The_device_tensor_path_equals_the_host_path(
        [ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        var shape = new TensorShape(2, 4, 3, 6);
        var (host, x, _) = Layers.Random(device, Options, shape, seed: 91);
        var (onDevice, _, _) = Layers.Random(device, Options, shape, seed: 91);
        using (host)
        using (onDevice)
        {
            var outputShape = host.ComputeOutputShape(shape);
            var upstream = RandomTensors.Uniform(new Random(92), outputShape.ElementCount);

            var y = host.Forward(x, shape);
            var dx = host.Backward(upstream);
            var (dk, db) = host.GetGradients();
            var predicted = host.Predict(x, shape);

            using var xd = DeviceTensor.FromHost(device, x, shape);
            using var yd = onDevice.Forward(xd);
            using var dyd = DeviceTensor.FromHost(device, upstream, outputShape);
            using var dxd = DeviceTensor.Allocate(device, shape);
            onDevice.Backward(dyd, dxd);
            Assert.Multiple(() =>
            {
                Assert.That(yd.ToArray(), Is.EqualTo(y), "output");
                Assert.That(dxd.ToArray(), Is.EqualTo(dx), "input gradient");
                Assert.That(onDevice.KernelGradient!.ToArray(), Is.EqualTo(dk), "kernel gradient on the device");
                Assert.That(onDevice.BiasGradient!.ToArray(), Is.EqualTo(db), "bias gradient on the device");
                Assert.That(onDevice.Kernel!.ToArray(), Is.EqualTo(host.GetWeights().Kernel), "kernel on the device");
            });

            // Weight gradients only (no input gradient), then inference into a caller's tensor.
            onDevice.Backward(dyd, null);
            Assert.That(onDevice.GetGradients().Kernel, Is.EqualTo(dk), "Backward(dy, null)");
            using var pd = DeviceTensor.Allocate(device, outputShape);
            onDevice.Predict(xd, pd);
            Assert.That(pd.ToArray(), Is.EqualTo(predicted), "Predict on device tensors");
        }
    }

    [Test]
    public void A_layer_without_a_device_runs_on_the_shared_one_which_every_thread_sees_the_same()
    {
        var seen = new DeconvDevice[8];
        Parallel.For(0, seen.Length, i => seen[i] = DeconvDevice.Shared);
        Assert.That(seen.Distinct().Count(), Is.EqualTo(1), "one shared device");
        if (!TestAccelerators.Selected(seen[0].Kind))
        {
            Assert.Ignore($"the shared device is {seen[0].Kind}, which {TestAccelerators.EnvironmentVariable} leaves out");
        }

        using var layer = new Conv2DTranspose(new Conv2DTransposeOptions(2, 2) { Strides = 2 });
        Assert.That(layer.Device, Is.SameAs(DeconvDevice.Shared));
        var y = layer.Forward(new float[1 * 2 * 2 * 3], new TensorShape(1, 2, 2, 3));
        Assert.That(y, Has.Length.EqualTo(1 * 4 * 4 * 2));
    }

    [Test]
    public void Create_honours_the_environment_variable()
    {
        string? saved = Environment.GetEnvironmentVariable(DeconvDevice.EnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(DeconvDevice.EnvironmentVariable, "cpu");
            using (var cpu = DeconvDevice.Create())
            {
                Assert.That(cpu.Kind, Is.EqualTo(AcceleratorKind.Cpu));
                Assert.That(cpu.SelectionReason, Does.Contain("ILGPUDECONV_ACCELERATOR=cpu"));
            }

            Environment.SetEnvironmentVariable(DeconvDevice.EnvironmentVariable, "tpu");
            Assert.That(Assert.Throws<ArgumentException>(() => DeconvDevice.Create().Dispose())!.Message, Does.Contain("ILGPUDECONV_ACCELERATOR").And.Contain("tpu"));

            var missing = new[] { ("cuda", AcceleratorKind.Cuda), ("opencl", AcceleratorKind.OpenCL) }
                .FirstOrDefault(m => DeconvDevice.ListAccelerators().All(i => i.Kind != m.Item2));
            if (missing.Item1 is not null)
            {
                Environment.SetEnvironmentVariable(DeconvDevice.EnvironmentVariable, missing.Item1);
                Assert.Throws<AcceleratorNotFoundException>(() => DeconvDevice.Create().Dispose());
            }

            // An explicit choice ignores the variable.
            Environment.SetEnvironmentVariable(DeconvDevice.EnvironmentVariable, "tpu");
            using var explicitCpu = DeconvDevice.Create(AcceleratorKind.Cpu);
            Assert.That(explicitCpu.Kind, Is.EqualTo(AcceleratorKind.Cpu));
        }
        finally
        {
            Environment.SetEnvironmentVariable(DeconvDevice.EnvironmentVariable, saved);
        }
    }
}
