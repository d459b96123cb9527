using System;
using System.Globalization;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Infrastructure;

/// <summary>
/// Element-wise comparison of float results with double references: <c>|a - b| &lt;= abs + rel * |b|</c> for
/// finite references; a NaN reference needs a NaN, an infinite one the same infinity, and a finite one a
/// finite result (a NaN or an infinity never passes for a number).
/// </summary>
public static class Tolerance
{
    public static void AssertClose(ReadOnlySpan<float> actual, ReadOnlySpan<double> expected, string what, double abs = 2e-5, double rel = 2e-5)
    {
        Assert.That(actual.Length, Is.EqualTo(expected.Length), $"{what}: length");
        for (int i = 0; i < actual.Length; i++)
        {
            if (Mismatch(actual[i], expected[i], abs, rel) is { } reason)
            {
                Assert.Fail(string.Create(CultureInfo.InvariantCulture, $"{what}[{i}]: {reason}"));
            }
        }
    }

    /// <summary>Why <paramref name="actual"/> does not match <paramref name="expected"/>, or null when it does.</summary>
    public static string? Mismatch(double actual, double expected, double abs, double rel)
    {
        if (double.IsNaN(expected) || double.IsNaN(actual))
        {
            return double.IsNaN(expected) && double.IsNaN(actual)
                ? null
                : string.Create(CultureInfo.InvariantCulture, $"got {actual:R}, expected {expected:R}");
        }

        if (double.IsInfinity(expected) || double.IsInfinity(actual))
        {
            return actual == expected ? null : string.Create(CultureInfo.InvariantCulture, $"got {actual:R}, expected {expected:R} (infinities must match exactly)");
        }

        double bound = abs + (rel * Math.Abs(expected));
        return Math.Abs(actual - expected) <= bound
            ? null
            : string.Create(CultureInfo.InvariantCulture, $"got {actual:R}, expected {expected:R} (|a-b| = {Math.Abs(actual - expected):G3} > {bound:G3})");
    }
}
