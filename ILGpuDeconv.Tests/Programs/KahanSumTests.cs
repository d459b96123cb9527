using System;
using ILGpuDeconv.Programs;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Programs;

/// <summary>The compensated sum: near-exact on long sums where a plain float sum drifts, and IEEE behaviour for infinities and NaN.</summary>
public sealed class KahanSumTests
{
    [Test]
    public void A_long_sum_stays_within_a_few_ulps_where_a_plain_sum_drifts()
    {
        var random = new Random(11);
        KahanSum kahan = default;
        float plain = 0f;
        double exact = 0;
        for (int i = 0; i < 1_000_000; i++)
        {
            float v = (float)random.NextDouble();
            kahan.Add(v);
            plain += v;
            exact += v;
        }

        double ulp = MathF.BitIncrement((float)exact) - (float)exact;
        Assert.That(Math.Abs(kahan.Sum - exact), Is.LessThanOrEqualTo(2 * ulp), "compensated");
        Assert.That(Math.Abs(plain - exact), Is.GreaterThan(100 * ulp), "the plain float sum this replaces drifts (else this test shows nothing)");
    }

    [Test]
    public void Infinities_and_NaN_pass_through_as_in_a_plain_sum()
    {
        KahanSum positive = default;
        positive.Add(1f);
        positive.Add(float.PositiveInfinity);
        positive.Add(1f);
        Assert.That(positive.Sum, Is.EqualTo(float.PositiveInfinity), "no inf - inf from the compensation");

        KahanSum mixed = default;
        mixed.Add(float.PositiveInfinity);
        mixed.Add(float.NegativeInfinity);
        Assert.That(float.IsNaN(mixed.Sum));

        KahanSum nan = default;
        nan.Add(2f);
        nan.Add(float.NaN);
        Assert.That(float.IsNaN(nan.Sum));
    }
}
