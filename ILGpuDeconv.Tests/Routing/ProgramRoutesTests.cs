using System;
using System.Collections.Generic;
using System.Linq;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Routing;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Routing;

/// <summary>
/// The routing rules, as a table: the route of each pass for representative layers on each kind of device (the
/// CPU accelerator, PoCL, an H200), in float32 and TF32, so "what runs for this layer here?" has one answer to read.
/// </summary>
public sealed class ProgramRoutesTests
{
    /// <summary>The devices of the table, by the traits the rules read (no accelerator needed).</summary>
    private static readonly (string Name, DeviceTraits Traits)[] Devices =
    [
        ("CPU accelerator", new DeviceTraits(AcceleratorKind.Cpu, SupportsTiled: false, TensorCores: false, null, Multiprocessors: 1, ReductionThreads: 128)),
        ("PoCL, 2 cores", new DeviceTraits(AcceleratorKind.OpenCL, SupportsTiled: true, TensorCores: false, null, Multiprocessors: 2, ReductionThreads: 16384)),
        ("H200", new DeviceTraits(AcceleratorKind.Cuda, SupportsTiled: true, TensorCores: true, null, Multiprocessors: 132, ReductionThreads: 8L * 132 * 2048)),
    ];

    /// <summary>The layers of the table: the README's example, a large generator layer, narrow groups, depthwise, a small one.</summary>
    private static readonly (string Name, Conv2DTransposeOptions Options, TensorShape Input)[] Layers =
    [
        ("DCGAN 16x16x128 -> 64, k4 s2", new Conv2DTransposeOptions(64, 4) { Strides = 2, Padding = Padding.Same }, new TensorShape(8, 16, 16, 128)),
        ("G 32x32x256 -> 256, k4 s2", new Conv2DTransposeOptions(256, 4) { Strides = 2, Padding = Padding.Same }, new TensorShape(16, 32, 32, 256)),
        ("4 groups of 16", new Conv2DTransposeOptions(64, 3) { Groups = 4 }, new TensorShape(4, 8, 8, 64)),
        ("depthwise 256", new Conv2DTransposeOptions(256, 4) { Strides = 2, Padding = Padding.Same, Groups = 256 }, new TensorShape(16, 32, 32, 256)),
        ("small 4x4x3 -> 5, k3", new Conv2DTransposeOptions(5, 3), new TensorShape(1, 4, 4, 3)),
    ];

    /// <summary>The table for Auto: device, layer, precision, then the route of each pass.</summary>
    private static readonly string[] AutoTable =
    [
        "CPU accelerator | DCGAN 16x16x128 -> 64, k4 s2 | Float32 | direct | direct | direct",
        "CPU accelerator | G 32x32x256 -> 256, k4 s2 | Float32 | direct | direct | direct",
        "CPU accelerator | 4 groups of 16 | Float32 | direct | direct | direct",
        "CPU accelerator | depthwise 256 | Float32 | depthwise | depthwise | depthwise",
        "CPU accelerator | small 4x4x3 -> 5, k3 | Float32 | direct | direct | direct",
        "PoCL, 2 cores | DCGAN 16x16x128 -> 64, k4 s2 | Float32 | direct | direct | direct, 2 splits",
        "PoCL, 2 cores | G 32x32x256 -> 256, k4 s2 | Float32 | direct | direct | direct",
        "PoCL, 2 cores | 4 groups of 16 | Float32 | direct | direct | direct",
        "PoCL, 2 cores | depthwise 256 | Float32 | depthwise | depthwise | depthwise, 16 splits",
        "PoCL, 2 cores | small 4x4x3 -> 5, k3 | Float32 | direct | direct | direct",
        "H200 | DCGAN 16x16x128 -> 64, k4 s2 | Float32 | tiled 64x64 | tiled 64x128 | tiled 64x128, 33 splits",
        "H200 | DCGAN 16x16x128 -> 64, k4 s2 | TensorFloat32 | tiled 64x64, tensor cores | tiled 64x128, tensor cores | tiled 64x128, 33 splits, tensor cores",
        "H200 | G 32x32x256 -> 256, k4 s2 | Float32 | tiled 128x128 | tiled 64x128 | tiled 128x128, 9 splits",
        "H200 | G 32x32x256 -> 256, k4 s2 | TensorFloat32 | tiled 128x128, tensor cores | tiled 64x128, tensor cores | tiled 128x128, 9 splits, tensor cores",
        "H200 | 4 groups of 16 | Float32 | direct | direct | direct",
        "H200 | 4 groups of 16 | TensorFloat32 | direct | direct | direct",
        "H200 | depthwise 256 | Float32 | depthwise | depthwise | depthwise, 32 splits",
        "H200 | depthwise 256 | TensorFloat32 | depthwise | depthwise | depthwise, 32 splits",
        "H200 | small 4x4x3 -> 5, k3 | Float32 | tiled 64x64 | tiled 64x64 | tiled 64x64",
        "H200 | small 4x4x3 -> 5, k3 | TensorFloat32 | tiled 64x64, tensor cores | tiled 64x64, tensor cores | tiled 64x64, tensor cores",
    ];

    [Test]
    public void Auto_routes_every_pass_as_the_table_says()
    {
        var table = Table(ConvolutionAlgorithm.Auto, finite: true);
        TestContext.Out.WriteLine(string.Join(Environment.NewLine, table));
        Assert.That(table, Is.EqualTo(AutoTable));
    }

    [Test]
    public void Every_route_says_why()
    {
        var p = Params(Layers[1]);
        var cuda = new RouteContext(Devices[2].Traits, ConvolutionAlgorithm.Auto, ConvolutionPrecision.Float32, null);
        var cpu = cuda with { Device = Devices[0].Traits };
        Assert.Multiple(() =>
        {
            Assert.That(ProgramRoutes.Forward(cuda, p, () => true).ToString(), Is.EqualTo("Forward: tiled 128x128 (rule: Auto: the tiled programs on CUDA)"));
            Assert.That(ProgramRoutes.Forward(cpu, p, () => true).Reason, Does.Contain("direct programs on Cpu"));
            Assert.That(ProgramRoutes.Forward(cuda with { Precision = ConvolutionPrecision.TensorFloat32, Device = Devices[2].Traits with { TensorCoreFailure = "CudaException: no image" } }, p, () => true).Reason, Does.Contain("tensor-core loops failed here (CudaException: no image)"));
            Assert.That(ProgramRoutes.Forward(cuda, p, () => true).Origin, Is.EqualTo(RouteOrigin.Rule));
        });
    }

    [Test]
    public void A_non_finite_weight_keeps_forward_and_input_gradient_on_the_direct_programs()
    {
        var p = Params(Layers[1]);
        var cuda = new RouteContext(Devices[2].Traits, ConvolutionAlgorithm.TiledGemm, ConvolutionPrecision.Float32, null);
        Assert.Multiple(() =>
        {
            Assert.That(ProgramRoutes.Forward(cuda, p, () => false).Family, Is.EqualTo(ProgramFamily.Direct));
            Assert.That(ProgramRoutes.InputGradient(cuda, p, () => false).Reason, Does.Contain("infinite or NaN"));
            Assert.That(ProgramRoutes.KernelGradient(cuda, p).Family, Is.EqualTo(ProgramFamily.Tiled), "the kernel gradient forms no product with padding");
        });
    }

    [Test]
    public void The_weight_check_runs_only_when_a_tiled_route_is_in_question()
    {
        var p = Params(Layers[1]);
        int asked = 0;
        bool Finite()
        {
            asked++;
            return true;
        }

        ProgramRoutes.Forward(new RouteContext(Devices[0].Traits, ConvolutionAlgorithm.Auto, ConvolutionPrecision.Float32, null), p, Finite);
        ProgramRoutes.Forward(new RouteContext(Devices[2].Traits, ConvolutionAlgorithm.Direct, ConvolutionPrecision.Float32, null), p, Finite);
        Assert.That(asked, Is.Zero, "no tiled route on the CPU accelerator or with Direct");
        ProgramRoutes.Forward(new RouteContext(Devices[2].Traits, ConvolutionAlgorithm.Auto, ConvolutionPrecision.Float32, null), p, Finite);
        Assert.That(asked, Is.EqualTo(1));
    }

    [TestCase(64, 64, 1, true, TestName = "Auto, no groups: tiled")]
    [TestCase(256, 256, 256, false, TestName = "Auto, depthwise: direct")]
    [TestCase(64, 64, 2, true, TestName = "Auto, 2 groups of 32: tiled")]
    [TestCase(62, 64, 2, false, TestName = "Auto, 2 groups of 31 channels: direct")]
    [TestCase(64, 62, 2, false, TestName = "Auto, 2 groups of 31 filters: direct")]
    public void Auto_runs_grouped_layers_tiled_only_with_wide_groups(int channels, int filters, int groups, bool tiled)
    {
        var p = new Conv2DTransposeParams(Conv2DTransposeGeometry.Create(new Conv2DTransposeOptions(filters, 3) { Groups = groups }, new TensorShape(1, 8, 8, channels)));
        var cuda = new RouteContext(Devices[2].Traits, ConvolutionAlgorithm.Auto, ConvolutionPrecision.Float32, null);
        var pocl = cuda with { Device = Devices[1].Traits };
        Assert.Multiple(() =>
        {
            foreach (var pass in Enum.GetValues<ConvolutionPass>())
            {
                Assert.That(Route(pass, cuda, p).Family == ProgramFamily.Tiled, Is.EqualTo(tiled), $"{pass} where Auto means tiled (CUDA)");
                Assert.That(Route(pass, pocl, p).Family, Is.Not.EqualTo(ProgramFamily.Tiled), $"{pass} where Auto means direct");
                Assert.That(Route(pass, pocl with { Algorithm = ConvolutionAlgorithm.TiledGemm }, p).Family, Is.EqualTo(ProgramFamily.Tiled), $"{pass}: TiledGemm asked for");
                Assert.That(Route(pass, cuda with { Algorithm = ConvolutionAlgorithm.Direct }, p).Family, Is.Not.EqualTo(ProgramFamily.Tiled), $"{pass}: Direct asked for");
            }
        });
    }

    [Test]
    public void Candidates_are_the_direct_family_and_every_tile_where_tiled_programs_run()
    {
        var p = Params(Layers[0]);
        var pocl = new RouteContext(Devices[1].Traits, ConvolutionAlgorithm.Tuned, ConvolutionPrecision.Float32, null);
        var h200 = pocl with { Device = Devices[2].Traits, Precision = ConvolutionPrecision.TensorFloat32 };
        Assert.Multiple(() =>
        {
            Assert.That(ProgramRoutes.Candidates(ConvolutionPass.Forward, pocl with { Device = Devices[0].Traits }, p, () => true).Select(r => r.Name), Is.EqualTo(new[] { "direct" }));
            Assert.That(
                ProgramRoutes.Candidates(ConvolutionPass.Forward, pocl, p, () => true).Select(r => r.Name),
                Is.EqualTo(new[] { "direct", "tiled 128x128", "tiled 128x64", "tiled 64x128", "tiled 64x64" }));
            Assert.That(ProgramRoutes.Candidates(ConvolutionPass.Forward, pocl, p, () => false).Select(r => r.Name), Is.EqualTo(new[] { "direct" }), "non-finite weights");
            Assert.That(ProgramRoutes.Candidates(ConvolutionPass.KernelGradient, h200, p, () => false), Has.Count.EqualTo(9), "direct, and 4 tiles with and without tensor cores");
        });
    }

    [Test]
    public void Keys_tell_apart_what_changes_the_programs()
    {
        var a = Params(Layers[0]);
        var b = Params(Layers[0] with { Input = new TensorShape(4, 16, 16, 128) });
        var c = Params(Layers[0] with { Options = Layers[0].Options with { DataFormat = DataFormat.ChannelsFirst }, Input = new TensorShape(8, 128, 16, 16) });
        var keys = new[]
        {
            ProgramRoutes.KeyOf(ConvolutionPass.Forward, a, ConvolutionPrecision.Float32),
            ProgramRoutes.KeyOf(ConvolutionPass.InputGradient, a, ConvolutionPrecision.Float32),
            ProgramRoutes.KeyOf(ConvolutionPass.Forward, a, ConvolutionPrecision.TensorFloat32),
            ProgramRoutes.KeyOf(ConvolutionPass.Forward, b, ConvolutionPrecision.Float32),
            ProgramRoutes.KeyOf(ConvolutionPass.Forward, c, ConvolutionPrecision.Float32),
        };
        Assert.That(keys.Distinct().Count(), Is.EqualTo(keys.Length), string.Join(Environment.NewLine, keys));
    }

    private static List<string> Table(ConvolutionAlgorithm algorithm, bool finite)
    {
        var rows = new List<string>();
        foreach (var (deviceName, traits) in Devices)
        {
            foreach (var layer in Layers)
            {
                var p = Params(layer);
                ConvolutionPrecision[] precisions = traits.Kind == AcceleratorKind.Cuda ? [ConvolutionPrecision.Float32, ConvolutionPrecision.TensorFloat32] : [ConvolutionPrecision.Float32];
                foreach (var precision in precisions)
                {
                    var context = new RouteContext(traits, algorithm, precision, null);
                    var routes = Enum.GetValues<ConvolutionPass>().Select(pass => Route(pass, context, p, finite).Name);
                    rows.Add($"{deviceName} | {layer.Name} | {precision} | {string.Join(" | ", routes)}");
                }
            }
        }

        return rows;
    }

    [Test]
    public void A_route_whose_tensor_core_loops_failed_at_launch_reports_the_SIMT_loops_that_ran()
    {
        var h200 = Devices.Single(d => d.Name == "H200").Traits;
        var route = Route(ConvolutionPass.Forward, new RouteContext(h200, ConvolutionAlgorithm.Auto, ConvolutionPrecision.TensorFloat32, null), Params(Layers[1]));
        Assert.That(route.TensorCores, Is.True, "the rule's route on an H200 in TF32");

        var ran = route.AsRun("CudaException: no kernel image");
        Assert.Multiple(() =>
        {
            Assert.That(ran.TensorCores, Is.False);
            Assert.That(ran.Tile, Is.EqualTo(route.Tile));
            Assert.That(ran.Reason, Does.StartWith(route.Reason).And.Contain("no kernel image"));
            Assert.That(route.AsRun(null), Is.SameAs(route), "no failure: the route as chosen");
        });
    }

    private static ProgramRoute Route(ConvolutionPass pass, RouteContext context, Conv2DTransposeParams p, bool finite = true) => pass switch
    {
        ConvolutionPass.Forward => ProgramRoutes.Forward(context, p, () => finite),
        ConvolutionPass.InputGradient => ProgramRoutes.InputGradient(context, p, () => finite),
        _ => ProgramRoutes.KernelGradient(context, p),
    };

    private static Conv2DTransposeParams Params((string Name, Conv2DTransposeOptions Options, TensorShape Input) layer) =>
        new(Conv2DTransposeGeometry.Create(layer.Options, layer.Input));
}
