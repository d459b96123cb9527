using System;

namespace ILGpuDeconv.Activations;

/// <summary>
/// Scalar functions the activations need and <see cref="MathF"/> lacks, written with operations every
/// ILGPU backend compiles.
/// </summary>
internal static class ActivationMath
{
    /// <summary>1/sqrt(2).</summary>
    public const float InvSqrt2 = 0.70710678118654752f;

    /// <summary>1/sqrt(2*pi).</summary>
    public const float InvSqrt2Pi = 0.39894228040143268f;

    /// <summary>sqrt(2/pi).</summary>
    public const float Sqrt2OverPi = 0.79788456080286536f;

    /// <summary>The error function, from the Chebyshev fit of erfc in Numerical Recipes (relative error below 1.2e-7).</summary>
    public static float Erf(float x)
    {
        float z = MathF.Abs(x);
        float t = 1f / (1f + (0.5f * z));
        float poly = -1.26551223f + (t * (1.00002368f + (t * (0.37409196f + (t * (0.09678418f
            + (t * (-0.18628806f + (t * (0.27886807f + (t * (-1.13520398f + (t * (1.48851587f
            + (t * (-0.82215223f + (t * 0.17087277f)))))))))))))))));
        float erf = 1f - (t * MathF.Exp((-z * z) + poly));
        return x >= 0f ? erf : -erf;
    }

    /// <summary>The logistic sigmoid, written to stay finite for large |x|.</summary>
    public static float Sigmoid(float x)
    {
        if (x >= 0f)
        {
            return 1f / (1f + MathF.Exp(-x));
        }

        float e = MathF.Exp(x);
        return e / (1f + e);
    }

    /// <summary>
    /// <c>log(1 + exp(x))</c> as <c>max(x, 0) + log(1 + exp(-|x|))</c>: finite everywhere, and within float
    /// rounding of TensorFlow's thresholded form. (That form, a chain of selects around exp and log,
    /// crashes PoCL 6's LLVM: "Instruction Combining did not reach a fixpoint".)
    /// </summary>
    public static float Softplus(float x) => MathF.Max(x, 0f) + MathF.Log(1f + MathF.Exp(-MathF.Abs(x)));
}
