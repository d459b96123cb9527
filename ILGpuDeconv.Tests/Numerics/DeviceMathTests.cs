using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Tests.Infrastructure;
using ILGpuDeconv.Tests.Reference;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Numerics;

/// <summary>
/// <see cref="DeviceMath"/> against double precision: each function swept over more than a million floats
/// of its useful range (an even grid plus every binade, both signs), the worst error in ulps of the
/// correctly rounded result asserted; special values; and the same sweep run inside a GPU program on every
/// accelerator, because the CPU accelerator runs .NET code while OpenCL and CUDA run what ILGPU compiled.
/// </summary>
public sealed class DeviceMathTests
{
    /// <summary>One function under test: the library's, a double-precision reference, the stated bound, and its inputs.</summary>
    public sealed record Function(string Name, Func<float, float> Library, Func<double, double> Reference, double MaxUlps, float Low, float High, bool Negatives, float SmallestMagnitude)
    {
        public override string ToString() => Name;
    }

    /// <summary>The functions, with their bounds in ulps: the numbers <see cref="DeviceMath"/>'s documentation states.</summary>
    public static IEnumerable<Function> Functions() =>
    [
        new("exp", DeviceMath.Exp, Math.Exp, 1.5, -104f, 89f, true, 1e-30f),
        new("expm1", DeviceMath.Expm1, Expm1, 2, -20f, 89f, true, 1e-30f),
        new("log", DeviceMath.Log, Math.Log, 1.5, 1e-3f, 16f, false, float.Epsilon),
        new("log1p", DeviceMath.Log1p, Log1p, 2, -0.9999f, 16f, true, 1e-30f),
        new("tanh", DeviceMath.Tanh, Math.Tanh, 2, -10f, 10f, true, 1e-30f),
        new("erf", DeviceMath.Erf, ReferenceActivations.Erf, 3, -5f, 5f, true, 1e-30f),
        new("sigmoid", DeviceMath.Sigmoid, x => 1 / (1 + Math.Exp(-x)), 3, -100f, 100f, true, 1e-30f),
        new("softplus", DeviceMath.Softplus, x => Math.Max(x, 0) + Log1p(Math.Exp(-Math.Abs(x))), 2.5, -100f, 100f, true, 1e-30f),
    ];

    [TestCaseSource(nameof(Functions))]
    public void Host_sweep_stays_within_the_stated_ulps(Function function)
    {
        var inputs = Inputs(function, evenPoints: 1 << 20, binadePoints: 1 << 11);
        Assert.That(inputs.Length, Is.GreaterThanOrEqualTo(1_000_000));
        var outputs = inputs.Select(function.Library).ToArray();
        AssertWithinUlps(function, inputs, outputs, "host");
    }

    [Test]
    public void Device_sweep_stays_within_the_stated_ulps(
        [ValueSource(nameof(Functions))] Function function, [ValueSource(typeof(TestAccelerators), nameof(TestAccelerators.Tested))] AcceleratorKind kind)
    {
        var device = TestAccelerators.Require(kind);
        var inputs = Inputs(function, evenPoints: 1 << 17, binadePoints: 1 << 9);
        var outputs = DeviceMathProgram.Evaluate(device, FunctionIndex(function.Name), inputs);
        AssertWithinUlps(function, inputs, outputs, kind.ToString());
    }

    [Test]
    public void Special_values_follow_IEEE_754()
    {
        float inf = float.PositiveInfinity;
        (string What, float Actual, float Expected)[] cases =
        [
            ("exp(+inf)", DeviceMath.Exp(inf), inf), ("exp(-inf)", DeviceMath.Exp(-inf), 0f), ("exp(0)", DeviceMath.Exp(0f), 1f),
            ("exp(89)", DeviceMath.Exp(89f), inf), ("exp(-104)", DeviceMath.Exp(-104f), 0f), ("exp(-103)", DeviceMath.Exp(-103f), (float)Math.Exp(-103)),
            ("expm1(+inf)", DeviceMath.Expm1(inf), inf), ("expm1(-inf)", DeviceMath.Expm1(-inf), -1f), ("expm1(-0)", DeviceMath.Expm1(-0f), -0f),
            ("log(0)", DeviceMath.Log(0f), -inf), ("log(-0)", DeviceMath.Log(-0f), -inf), ("log(+inf)", DeviceMath.Log(inf), inf),
            ("log(-1)", DeviceMath.Log(-1f), float.NaN), ("log(1)", DeviceMath.Log(1f), 0f), ("log(max)", DeviceMath.Log(float.MaxValue), (float)Math.Log(float.MaxValue)),
            ("log(epsilon)", DeviceMath.Log(float.Epsilon), (float)Math.Log(float.Epsilon)),
            ("log1p(-1)", DeviceMath.Log1p(-1f), -inf), ("log1p(-2)", DeviceMath.Log1p(-2f), float.NaN), ("log1p(+inf)", DeviceMath.Log1p(inf), inf),
            ("log1p(-0)", DeviceMath.Log1p(-0f), -0f), ("log1p(max)", DeviceMath.Log1p(float.MaxValue), (float)Math.Log(float.MaxValue)),
            ("tanh(+inf)", DeviceMath.Tanh(inf), 1f), ("tanh(-inf)", DeviceMath.Tanh(-inf), -1f), ("tanh(-0)", DeviceMath.Tanh(-0f), -0f),
            ("erf(+inf)", DeviceMath.Erf(inf), 1f), ("erf(-inf)", DeviceMath.Erf(-inf), -1f), ("erf(-0)", DeviceMath.Erf(-0f), -0f),
            ("sigmoid(+inf)", DeviceMath.Sigmoid(inf), 1f), ("sigmoid(-inf)", DeviceMath.Sigmoid(-inf), 0f),
            ("softplus(+inf)", DeviceMath.Softplus(inf), inf), ("softplus(-inf)", DeviceMath.Softplus(-inf), 0f),
        ];
        Assert.Multiple(() =>
        {
            foreach (var (what, actual, expected) in cases)
            {
                Assert.That(BitConverter.SingleToInt32Bits(actual), Is.EqualTo(BitConverter.SingleToInt32Bits(expected)).Or.Matches<int>(_ => float.IsNaN(expected) && float.IsNaN(actual)), $"{what} = {actual:R}, expected {expected:R}");
            }

            foreach (var function in Functions())
            {
                Assert.That(float.IsNaN(function.Library(float.NaN)), $"{function.Name}(NaN)");
            }
        });
    }

    [Test]
    public void Ulps_are_measured_against_the_correctly_rounded_float()
    {
        // The helper itself: the next float up is 1 ulp, an exact value 0, a NaN against a number infinite.
        Assert.That(Ulps(MathF.BitIncrement(1.5f), 1.5), Is.EqualTo(1));
        Assert.That(Ulps(1.5f, 1.5), Is.Zero);
        Assert.That(Ulps(float.NaN, 1.0), Is.EqualTo(double.PositiveInfinity));
        Assert.That(Ulps(float.PositiveInfinity, 1e39), Is.LessThan(1));
        Assert.That(Ulps(float.Epsilon, 0.0), Is.EqualTo(1));
    }

    /// <summary>An even grid over [Low, High], and every binade from the smallest magnitude up to the range's edges, both signs where the domain has them.</summary>
    private static float[] Inputs(Function function, int evenPoints, int binadePoints)
    {
        var inputs = new List<float>(evenPoints + (600 * binadePoints));
        for (int i = 0; i < evenPoints; i++)
        {
            inputs.Add((float)(function.Low + ((function.High - (double)function.Low) * i / (evenPoints - 1))));
        }

        double top = Math.Max(Math.Abs((double)function.Low), function.High);
        for (double start = function.SmallestMagnitude; start < top; start *= 2)
        {
            for (int j = 0; j < binadePoints; j++)
            {
                float magnitude = (float)(start * (1 + ((double)j / binadePoints)));
                if (magnitude <= function.High)
                {
                    inputs.Add(magnitude);
                }

                if (function.Negatives && -magnitude >= function.Low)
                {
                    inputs.Add(-magnitude);
                }
            }
        }

        return [.. inputs];
    }

    private static void AssertWithinUlps(Function function, float[] inputs, float[] outputs, string where)
    {
        double worst = 0;
        int worstIndex = 0;
        for (int i = 0; i < inputs.Length; i++)
        {
            double ulps = Ulps(outputs[i], function.Reference(inputs[i]));
            if (!(ulps <= worst))
            {
                worst = ulps;
                worstIndex = i;
            }
        }

        string report = string.Create(
            CultureInfo.InvariantCulture,
            $"{function.Name} on {where}: worst {worst:F2} ulp at x = {inputs[worstIndex]:R} (got {outputs[worstIndex]:R}, exact {function.Reference(inputs[worstIndex]):R}), {inputs.Length} inputs");
        TestContext.Out.WriteLine(report);
        Assert.That(worst, Is.LessThanOrEqualTo(function.MaxUlps), report);
    }

    /// <summary>
    /// |actual - exact| in units of the last place of the float nearest to the exact value (subnormal spacing
    /// below 2^-126; an infinite result counts as 2^128, the next value after the largest float).
    /// </summary>
    private static double Ulps(float actual, double exact)
    {
        if (double.IsNaN(exact) || float.IsNaN(actual))
        {
            return double.IsNaN(exact) && float.IsNaN(actual) ? 0 : double.PositiveInfinity;
        }

        double a = float.IsInfinity(actual) ? Math.CopySign(Math.Pow(2, 128), actual) : actual;
        double e = Math.Abs(exact) > Math.Pow(2, 128) ? Math.CopySign(Math.Pow(2, 128), exact) : exact;
        int exponent = Math.Max(-126, Math.ILogB(Math.Abs(e) == 0 ? double.Epsilon : Math.Abs(e)));
        double ulp = Math.Pow(2, Math.Min(exponent, 127) - 23);
        return a == e ? 0 : Math.Abs(a - e) / ulp;
    }

    private static double Expm1(double x)
    {
        if (Math.Abs(x) >= 1e-3)
        {
            return Math.Exp(x) - 1; // exp's rounding is below 1e-13 of the result here
        }

        double term = x, sum = x;
        for (int n = 2; n < 12; n++)
        {
            term *= x / n;
            sum += term;
        }

        return sum;
    }

    private static double Log1p(double x)
    {
        if (Math.Abs(x) >= 1e-3)
        {
            return Math.Log(1 + x);
        }

        double power = x, sum = 0;
        for (int n = 1; n < 12; n++)
        {
            sum += (n % 2 == 1 ? power : -power) / n;
            power *= x;
        }

        return sum;
    }

    private static int FunctionIndex(string name) => Array.IndexOf(DeviceMathProgram.Names, name);
}

/// <summary>A GPU program that evaluates one <see cref="DeviceMath"/> function, so each backend's compiled code is measured.</summary>
public readonly struct DeviceMathProgram : IGpuProgram
{
    /// <summary>The functions, in the order of the program's selector.</summary>
    public static readonly string[] Names = ["exp", "expm1", "log", "log1p", "tanh", "erf", "sigmoid", "softplus"];

    private readonly ArrayView<float> x;
    private readonly ArrayView<float> y;
    private readonly int function;

    private DeviceMathProgram(ArrayView<float> x, ArrayView<float> y, int function)
    {
        this.x = x;
        this.y = y;
        this.function = function;
    }

    public long Items => x.Length;

    /// <summary>Runs the function on the device through the library's launcher and copies the results back.</summary>
    public static float[] Evaluate(DeconvDevice device, int function, float[] inputs)
    {
        var accelerator = device.Accelerator;
        using var x = accelerator.Allocate1D(inputs);
        using var y = accelerator.Allocate1D<float>(inputs.Length);
        device.Launcher.Launch(accelerator.DefaultStream, new DeviceMathProgram(x.View, y.View, function));
        accelerator.Synchronize();
        return y.GetAsArray1D();
    }

    public void Execute(int item)
    {
        float v = x[item];
        y[item] = function switch
        {
            0 => DeviceMath.Exp(v),
            1 => DeviceMath.Expm1(v),
            2 => DeviceMath.Log(v),
            3 => DeviceMath.Log1p(v),
            4 => DeviceMath.Tanh(v),
            5 => DeviceMath.Erf(v),
            6 => DeviceMath.Sigmoid(v),
            _ => DeviceMath.Softplus(v),
        };
    }
}
