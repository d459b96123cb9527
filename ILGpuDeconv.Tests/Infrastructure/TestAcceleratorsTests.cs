using NUnit.Framework;

namespace ILGpuDeconv.Tests.Infrastructure;

/// <summary>
/// The accelerator matrix, reported once per kind: a kind this run tests passes here, and a missing or left-out one is
/// ignored with the reason (its tests made no cases), so a run says in one line each which accelerators it did not test.
/// </summary>
public sealed class TestAcceleratorsTests
{
    [TestCaseSource(typeof(TestAccelerators), nameof(TestAccelerators.All))]
    public void Each_accelerator_kind_is_tested_or_reported_once(AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind); // ignored here, with the reason, when the kind is not tested
        Assert.Multiple(() =>
        {
            Assert.That(TestAccelerators.Tested, Does.Contain(kind), "a kind that is here and selected makes test cases");
            Assert.That(device.Kind, Is.EqualTo(kind));
        });
    }
}
