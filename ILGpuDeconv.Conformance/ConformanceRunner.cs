using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;

namespace ILGpuDeconv.Conformance;

/// <summary>The comparison of one tensor with its expected values.</summary>
/// <param name="Tensor">Which tensor: output, grad_input, grad_kernel, grad_bias, or shape.</param>
/// <param name="Passed">Whether every element is within tolerance.</param>
/// <param name="WorstError">The largest |actual - expected|.</param>
/// <param name="WorstRatio">The largest error divided by its element's tolerance (at most 1 when passed).</param>
/// <param name="Detail">What went wrong, when it is not a number comparison.</param>
public sealed record TensorCheck(string Tensor, bool Passed, double WorstError, double WorstRatio, string? Detail = null)
{
    /// <summary>Formats the check: its detail, or the worst error and its share of the tolerance.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => Detail ?? string.Create(
        CultureInfo.InvariantCulture, $"{Tensor}: worst |a-b| = {WorstError:G3} ({WorstRatio:F2} of tolerance)");
}

/// <summary>The outcome of one case.</summary>
public sealed record CaseResult(ConformanceCase Case, IReadOnlyList<TensorCheck> Checks)
{
    /// <summary>Gets a value indicating whether every check passed (and there was at least one).</summary>
    public bool Passed => Checks.Count > 0 && Checks.All(check => check.Passed);

    /// <summary>Gets the routes the layer's passes took (<see cref="Conv2DTranspose.LastRoute"/>), in pass order.</summary>
    public IReadOnlyList<ProgramRoute> Routes { get; init; } = [];
}

/// <summary>Runs conformance cases through the public layer API and compares with the expected values.</summary>
public static class ConformanceRunner
{
    /// <summary>Absolute term of the tolerance.</summary>
    public const double AbsoluteTolerance = 2e-5;

    /// <summary>Relative term of the tolerance.</summary>
    public const double RelativeTolerance = 2e-5;

    /// <summary>The rule, as printed by <c>verify</c>.</summary>
    public const string ToleranceRule = "|a - b| <= 2e-5 + 2e-5 * |b| for every element (no scaling with the reduction length); NaN must match NaN and infinities must match exactly";

    /// <summary>Runs one case: forward output and shape, and (unless <paramref name="forwardOnly"/>) the three gradients.</summary>
    public static CaseResult Run(DeconvDevice device, ConformanceCase c, bool forwardOnly) => Run(device, c, forwardOnly, null, WeightLayout.Keras);

    /// <summary>Runs one case with its kernel and bias taken from a weight file (any format <see cref="Conv2DTranspose.LoadWeights(string, WeightLayout)"/> reads) instead of the case's.</summary>
    public static CaseResult Run(DeconvDevice device, ConformanceCase c, bool forwardOnly, string? weightsFile, WeightLayout layout)
    {
        ArgumentNullException.ThrowIfNull(c);
        var checks = new List<TensorCheck>();
        Conv2DTranspose? layer = null;
        CaseResult Result() => new(c, checks)
        {
            Routes = layer is null ? [] : [.. Enum.GetValues<ConvolutionPass>().Select(layer.LastRoute).OfType<ProgramRoute>()],
        };

        try
        {
            layer = new Conv2DTranspose(device, c.Options);
            var outputShape = layer.ComputeOutputShape(c.InputShape);
            if (outputShape != c.OutputShape)
            {
                checks.Add(new TensorCheck("shape", false, double.NaN, double.NaN, $"shape: expected {c.OutputShape}, got {outputShape}"));
                return Result();
            }

            if (c.Options.UseBias && c.Bias is null)
            {
                throw new InvalidOperationException("the case has use_bias=True but no bias values");
            }

            layer.SetWeights(c.Kernel, c.Options.UseBias ? c.Bias : ReadOnlySpan<float>.Empty);
            if (weightsFile is not null)
            {
                layer.LoadWeights(weightsFile, layout);
            }
            var output = layer.Forward(c.Input, c.InputShape);
            checks.Add(Compare("output", output, c.Output));
            if (forwardOnly)
            {
                return Result();
            }

            if (!c.HasGradients)
            {
                checks.Add(new TensorCheck("gradients", false, double.NaN, double.NaN, "gradients: the case holds no upstream/grad_* values (use --forward-only)"));
                return Result();
            }

            var gradInput = layer.Backward(c.Upstream);
            var (gradKernel, gradBias) = layer.GetGradients();
            checks.Add(Compare("grad_input", gradInput, c.GradInput!));
            checks.Add(Compare("grad_kernel", gradKernel, c.GradKernel!));
            if (c.Options.UseBias)
            {
                checks.Add(c.GradBias is null
                    ? new TensorCheck("grad_bias", false, double.NaN, double.NaN, "grad_bias: missing from the case")
                    : Compare("grad_bias", gradBias!, c.GradBias));
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or NotSupportedException or System.IO.InvalidDataException)
        {
            checks.Add(new TensorCheck("error", false, double.NaN, double.NaN, $"error: {ex.GetType().Name}: {ex.Message}"));
        }
        finally
        {
            layer?.Dispose();
        }

        return Result();
    }

    /// <summary>Compares element by element with <see cref="ToleranceRule"/>.</summary>
    public static TensorCheck Compare(string tensor, ReadOnlySpan<float> actual, ReadOnlySpan<float> expected)
    {
        if (actual.Length != expected.Length)
        {
            return new TensorCheck(tensor, false, double.NaN, double.NaN, $"{tensor}: {actual.Length} values, expected {expected.Length}");
        }

        double worstError = 0, worstRatio = 0;
        bool passed = true;
        for (int i = 0; i < actual.Length; i++)
        {
            double a = actual[i], b = expected[i];
            if (double.IsNaN(b) || double.IsInfinity(b) || double.IsNaN(a) || double.IsInfinity(a))
            {
                if (!(a.Equals(b)))
                {
                    return new TensorCheck(tensor, false, double.PositiveInfinity, double.PositiveInfinity,
                        string.Create(CultureInfo.InvariantCulture, $"{tensor}: element {i} is {a}, expected {b}"));
                }

                continue;
            }

            double error = Math.Abs(a - b);
            double ratio = error / (AbsoluteTolerance + (RelativeTolerance * Math.Abs(b)));
            worstError = Math.Max(worstError, error);
            worstRatio = Math.Max(worstRatio, ratio);
            passed &= ratio <= 1.0;
        }

        return new TensorCheck(tensor, passed, worstError, worstRatio);
    }
}
