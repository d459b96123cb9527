using CsCheck;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Programs;

/// <summary>
/// The depthwise programs (<see cref="DepthwiseForwardProgram{TAct, TMem}"/>, <see cref="DepthwiseKernelGradientProgram{TMem}"/>):
/// one input channel per group, 1 to 3 filters per group, so that a block of four filters spans groups and ends
/// mid-group; forward and every gradient against the double-precision reference on each accelerator.
/// </summary>
public sealed class DepthwiseProgramTests
{
    private static Gen<LayerMatchesReferenceTests.RandomCase> Configurations { get; } =
        from c in LayerMatchesReferenceTests.Configurations
        from groups in Gen.Int[2, 9]
        from multiplier in Gen.Int[1, 3]
        select c with { Channels = groups, Filters = groups * multiplier, Groups = groups };

    [Test]
    public void Random_depthwise_configurations_match_the_reference([ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        int checkedCases = 0;
        Configurations.Where(c => c.IsValid).Sample(
            c =>
            {
                var geometry = Conv2DTransposeGeometry.Create(c.Options, c.InputShape);
                Assert.That(new Conv2DTransposeParams(geometry).IsDepthwise, Is.True, $"{c} runs the depthwise programs");
                LayerMatchesReferenceTests.CheckAgainstReference(device, c);
                checkedCases++;
            },
            iter: 80,
            threads: 1,
            seed: "0Depthwise01");
        Assert.That(checkedCases, Is.GreaterThanOrEqualTo(50));
    }
}
