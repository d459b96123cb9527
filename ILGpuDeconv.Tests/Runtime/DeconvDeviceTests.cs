using System;
using System.IO;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Runtime;

/// <summary>Accelerator selection: the explicit choice, the environment variable, what is reported, and the native-library names.</summary>
public sealed class DeconvDeviceTests
{
    [TestCase("auto", null)]
    [TestCase("", null)]
    [TestCase(null, null)]
    [TestCase("CUDA", AcceleratorKind.Cuda)]
    [TestCase("OpenCL", AcceleratorKind.OpenCL)]
    [TestCase("cpu", AcceleratorKind.Cpu)]
    public void Kinds_parse_case_insensitively(string? text, AcceleratorKind? expected) =>
        Assert.That(DeconvDevice.ParseKind(text), Is.EqualTo(expected));

    [Test]
    public void An_unknown_kind_is_refused_naming_the_source()
    {
        var ex = Assert.Throws<ArgumentException>(() => DeconvDevice.ParseKind("tpu", DeconvDevice.EnvironmentVariable));
        Assert.That(ex!.Message, Does.Contain("ILGPUDECONV_ACCELERATOR").And.Contain("tpu"));
    }

    [TestCase("2", 2)]
    [TestCase(" 16 ", 16)]
    public void The_cpu_accelerators_threads_are_read_from_the_environment(string text, int expected) =>
        Assert.That(Launcher.CpuThreads(text), Is.EqualTo(expected));

    [TestCase("3")]
    [TestCase("0")]
    [TestCase("-2")]
    [TestCase("2048")]
    [TestCase("many")]
    public void A_bad_cpu_thread_count_is_refused_naming_the_variable(string text)
    {
        var ex = Assert.Throws<ArgumentException>(() => Launcher.CpuThreads(text))!;
        Assert.That(ex.Message, Does.Contain("ILGPUDECONV_CPU_THREADS").And.Contain($"\"{text}\""));
    }

    [Test]
    public void By_default_the_cpu_accelerator_runs_a_thread_per_core_two_at_least()
    {
        int threads = Launcher.CpuThreads(null);
        Assert.That(threads, Is.EqualTo(Math.Max(2, Environment.ProcessorCount / 2 * 2)));
        var device = Launcher.CpuAcceleratorDevice();
        Assert.That(device.NumMultiprocessors * device.MaxNumThreadsPerMultiprocessor, Is.EqualTo(threads));
    }

    [Test]
    public void The_cpu_accelerator_is_always_listed_last()
    {
        var list = DeconvDevice.ListAccelerators();
        Assert.That(list[^1].Kind, Is.EqualTo(AcceleratorKind.Cpu));
        Assert.That(list.Select(i => i.Kind), Is.Ordered.Descending, "CUDA, then OpenCL, then CPU");
    }

    [Test]
    public void Auto_picks_the_first_listed_accelerator_and_says_why()
    {
        using var device = DeconvDevice.Create(null);
        Assert.Multiple(() =>
        {
            Assert.That(device.Kind, Is.EqualTo(DeconvDevice.ListAccelerators()[0].Kind));
            Assert.That(device.SelectionReason, Does.StartWith("requested Auto"));
            Assert.That(device.ToString(), Does.Contain(device.Info.Name));
        });
    }

    [Test]
    public void An_explicit_choice_wins()
    {
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        Assert.That(device.Kind, Is.EqualTo(AcceleratorKind.Cpu));
    }

    [Test]
    public void A_missing_kind_is_a_clear_error()
    {
        var missing = new[] { AcceleratorKind.Cuda, AcceleratorKind.OpenCL }
            .Where(k => DeconvDevice.ListAccelerators().All(i => i.Kind != k))
            .ToList();
        if (missing.Count == 0)
        {
            Assert.Ignore("both CUDA and OpenCL are present here");
        }

        var ex = Assert.Throws<AcceleratorNotFoundException>(() => DeconvDevice.Create(missing[0]).Dispose());
        Assert.That(ex!.Message, Does.Contain($"No {missing[0]} accelerator").And.Contain("ILGPU lists"));
        Assert.That(ex.Requested, Is.EqualTo(missing[0]));
        Assert.That(ex, Is.InstanceOf<InvalidOperationException>(), "callers that caught InvalidOperationException still do");
    }

    [Test]
    public void A_borrowed_accelerator_is_left_to_its_owner()
    {
        using var owner = DeconvDevice.Create(AcceleratorKind.Cpu);
        var borrowed = DeconvDevice.FromAccelerator(owner.Accelerator);
        borrowed.Dispose();
        using var tensor = ILGpuDeconv.DeviceTensor.Allocate(owner, new ILGpuDeconv.TensorShape(4));
        Assert.That(() => tensor.CopyFromHost(new float[4]), Throws.Nothing, "the owner's accelerator still works");
    }

    [Test]
    public void The_native_resolver_tries_the_versioned_driver_names()
    {
        Assert.Multiple(() =>
        {
            Assert.That(NativeLibraryResolver.Candidates("cuda"), Does.Contain("libcuda.so.1"));
            Assert.That(NativeLibraryResolver.Candidates("OpenCL"), Does.Contain("libOpenCL.so.1"));
            Assert.That(NativeLibraryResolver.Candidates("kernel32"), Is.Empty);
        });
    }

    [Test]
    public void Inside_the_PoCL_root_the_OpenCL_device_is_found_through_the_versioned_library()
    {
        if (Environment.GetEnvironmentVariable("ILGPUDECONV_POCL") != "1")
        {
            Assert.Ignore("not running inside .ci/pocl's OpenCL root");
        }

        Assert.Multiple(() =>
        {
            Assert.That(DeconvDevice.ListAccelerators().Any(i => i.Kind == AcceleratorKind.OpenCL), "PoCL is listed");
            Assert.That(File.Exists("/usr/lib/x86_64-linux-gnu/libOpenCL.so"), Is.False, "the root has only libOpenCL.so.1, so the resolver did the work");
        });
    }
}
