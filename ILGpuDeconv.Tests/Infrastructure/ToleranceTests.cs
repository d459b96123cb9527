using NUnit.Framework;

namespace ILGpuDeconv.Tests.Infrastructure;

/// <summary>The comparison every numeric test relies on must be able to fail: NaN, infinities and plain misses.</summary>
public sealed class ToleranceTests
{
    [TestCase(float.NaN, 1.0, TestName = "A NaN result fails against a number")]
    [TestCase(1f, double.NaN, TestName = "A number fails against a NaN reference")]
    [TestCase(1f, double.PositiveInfinity, TestName = "A number fails against an infinite reference")]
    [TestCase(float.PositiveInfinity, 1.0, TestName = "An infinity fails against a number")]
    [TestCase(float.NegativeInfinity, double.PositiveInfinity, TestName = "The wrong infinity fails")]
    [TestCase(1.001f, 1.0, TestName = "A miss beyond the tolerance fails")]
    public void Mismatches_fail(float actual, double expected) =>
        Assert.Throws<AssertionException>(() => Tolerance.AssertClose([actual], [expected], "x"));

    [TestCase(float.NaN, double.NaN, TestName = "NaN matches NaN")]
    [TestCase(float.NegativeInfinity, double.NegativeInfinity, TestName = "An infinity matches itself")]
    [TestCase(1.00001f, 1.0, TestName = "A miss within the tolerance passes")]
    public void Matches_pass(float actual, double expected) =>
        Assert.DoesNotThrow(() => Tolerance.AssertClose([actual], [expected], "x"));

    [Test]
    public void Lengths_must_match() =>
        Assert.Throws<AssertionException>(() => Tolerance.AssertClose([1f, 2f], [1.0], "x"));
}
