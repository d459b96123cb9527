using ILGpuDeconv.Geometry;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Runtime;
using ILGpuDeconv.Tensors;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Runtime;

/// <summary>
/// Which programs a layer runs: <see cref="ConvolutionAlgorithm.Auto"/> keeps grouped layers with narrow groups
/// (depthwise above all) on the direct programs even where the tiled ones are the accelerator's choice.
/// </summary>
public sealed class ConvolutionAlgorithmTests
{
    private static Conv2DTransposeParams Params(int channels, int filters, int groups) => new(Conv2DTransposeGeometry.Create(
        new Conv2DTransposeOptions(filters, 3) { Groups = groups }, new TensorShape(1, 8, 8, channels)));

    [TestCase(64, 64, 1, true, TestName = "Auto, no groups: tiled")]
    [TestCase(256, 256, 256, false, TestName = "Auto, depthwise: direct")]
    [TestCase(64, 64, 2, true, TestName = "Auto, 2 groups of 32: tiled")]
    [TestCase(62, 64, 2, false, TestName = "Auto, 2 groups of 31 channels: direct")]
    [TestCase(64, 62, 2, false, TestName = "Auto, 2 groups of 31 filters: direct")]
    public void Auto_runs_grouped_layers_tiled_only_with_wide_groups(int channels, int filters, int groups, bool tiled) => Assert.Multiple(() =>
    {
        var p = Params(channels, filters, groups);
        Assert.That(DeconvDevice.TiledFor(ConvolutionAlgorithm.Auto, tiledHere: true, p), Is.EqualTo(tiled), "where Auto means tiled (CUDA)");
        Assert.That(DeconvDevice.TiledFor(ConvolutionAlgorithm.Auto, tiledHere: false, p), Is.False, "where Auto means direct");
        Assert.That(DeconvDevice.TiledFor(ConvolutionAlgorithm.TiledGemm, tiledHere: false, p), Is.True, "TiledGemm asked for");
        Assert.That(DeconvDevice.TiledFor(ConvolutionAlgorithm.Direct, tiledHere: false, p), Is.False);
    });
}
