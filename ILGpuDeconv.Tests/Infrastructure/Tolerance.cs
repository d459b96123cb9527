using System;
using System.Globalization;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Infrastructure;

/// <summary>Element-wise comparison of float results with double references: <c>|a - b| &lt;= abs + rel * |b|</c>.</summary>
public static class Tolerance
{
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, string what, double abs = 2e-5, double rel = 2e-5)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], b = expected[i];
            if (double.IsNaN(b))
            {
                Assert.That(double.IsNaN(a), $"{what}[{i}]: expected NaN, got {a}");
                continue;
            }

            if (Math.Abs(a - b) > abs + (rel * Math.Abs(b)))
            {
                Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]: got {a:R}, expected {b:R} (|a-b| = {Math.Abs(a - b):G3} > {abs + (rel * Math.Abs(b)):G3})"));
            }
        }
    }
}
