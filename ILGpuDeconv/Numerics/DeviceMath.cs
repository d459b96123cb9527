using System;
using ILGPU;

namespace ILGpuDeconv;

/// <summary>
/// Single-precision transcendental functions written with additions, multiplications, divisions, compares
/// and bit operations only, so that every ILGPU backend compiles the same arithmetic: CUDA, OpenCL and the
/// CPU accelerator agree to within an ulp or two. <see cref="System.MathF"/> does not give that: ILGPU's
/// CUDA backend turns <c>MathF.Tanh</c>, <c>Exp</c> and <c>Log</c> into the GPU's approximate instructions
/// (<c>tanh.approx.f32</c>, <c>ex2.approx</c>, <c>lg2.approx</c>), whose errors reach thousands of ulps
/// near zero, while the CPU accelerator calls .NET's correctly rounded library. Use these in your own
/// activation structs (<see cref="IActivationFunction"/>) for results that do not depend on
/// the device. Maximum errors in ulps of the correctly rounded result, as the test suite asserts them over
/// more than a million inputs each (and measured there on the host): <see cref="Exp"/> and <see cref="Log"/>
/// 1.5 (0.93, 0.82), <see cref="Expm1"/>, <see cref="Log1p"/> and <see cref="Tanh"/> 2 (1.38, 1.44, 1.37),
/// <see cref="Softplus"/> 2.5 (1.87), <see cref="Erf"/> and <see cref="Sigmoid"/> 3 (2.46, 2.06). Special
/// values (NaN, infinities, signed zeros, subnormals) follow IEEE 754.
/// </summary>
public static class DeviceMath
{
    /// <summary>log2(e).</summary>
    private const float Log2E = 1.44269504088896341f;

    /// <summary>The high part of ln 2: its 16 significant bits times any exponent of a float stay exact.</summary>
    private const float Ln2Hi = 0.693145751953125f;

    /// <summary>ln 2 minus <see cref="Ln2Hi"/>.</summary>
    private const float Ln2Lo = 1.42860682030941723212e-6f;

    /// <summary>e^x. Overflows to infinity above about 88.72 and underflows through the subnormals to 0 below about -103.9.</summary>
    /// <param name="x">The exponent.</param>
    /// <returns>e raised to <paramref name="x"/>.</returns>
    public static float Exp(float x)
    {
        // Clamping keeps the exponent arithmetic in range; the scaling below still overflows to infinity
        // or rounds to 0 where e^x does. A NaN fails both compares and stays NaN.
        float z = x > 89f ? 89f : x < -104f ? -104f : x;
        int k = Nearest(z * Log2E);
        float r = Reduce(z, k);
        return ScaleByPowerOfTwo(1f + (r + (r * r * ExpTail(r))), k);
    }

    /// <summary>e^x - 1, accurate near 0 where <c>Exp(x) - 1</c> loses every digit (Keras's elu and selu use it).</summary>
    /// <param name="x">The exponent.</param>
    /// <returns>e raised to <paramref name="x"/>, minus 1.</returns>
    public static float Expm1(float x)
    {
        float a = Abs(x);
        if (a <= 0.3466f)
        {
            return x == 0f ? x : x + (x * x * Expm1Tail(x)); // keeps -0
        }

        if (x > 16f)
        {
            // e^x >= 2^23 here, so subtracting 1 is exact or below half an ulp.
            return Exp(x) - 1f;
        }

        if (x < -17.5f)
        {
            return -1f; // e^x < 2.6e-8: -1 + e^x rounds to -1
        }

        // e^x - 1 = 2^k (e^r - 1) + (2^k - 1): the product is exact, and so is 2^k - 1 for -24 <= k <= 24 (k is
        // -25 just above x = -17.5, where 2^k - 1 rounds by half an ulp; the sweep bounds the total).
        // A NaN reaches here and stays NaN through r, whatever k it gives.
        int k = Nearest(x * Log2E);
        float r = Reduce(x, k);
        float em1 = r + (r * r * Expm1Tail(r));
        float scale = PowerOfTwo(k);
        return (scale * em1) + (scale - 1f);
    }

    /// <summary>The natural logarithm: NaN below 0, negative infinity at 0, subnormal inputs included.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>ln(<paramref name="x"/>).</returns>
    public static float Log(float x)
    {
        if (!(x > 0f) || x == float.PositiveInfinity)
        {
            return x == 0f ? float.NegativeInfinity : x == float.PositiveInfinity ? x : float.NaN;
        }

        return LogOfPositive(x, 0f);
    }

    /// <summary>ln(1 + x), accurate near 0 where <c>Log(1 + x)</c> loses digits (softplus uses it).</summary>
    /// <param name="x">The argument, at least -1.</param>
    /// <returns>ln(1 + <paramref name="x"/>); negative infinity at -1, NaN below.</returns>
    public static float Log1p(float x)
    {
        if (!(x > -1f) || x == float.PositiveInfinity)
        {
            return x == -1f ? float.NegativeInfinity : x == float.PositiveInfinity ? x : float.NaN;
        }

        if (x == 0f)
        {
            return x; // keeps -0
        }

        // u = 1 + x rounds; c is what the rounding lost (exact, by the Fast2Sum argument), and
        // ln(u + c) = ln(u) + c/u to well below an ulp because |c/u| <= 2^-24.
        float u = 1f + x;
        float c = x <= 1f ? x - (u - 1f) : 1f - (u - x);
        return LogOfPositive(u, c / u);
    }

    /// <summary>The hyperbolic tangent, odd, exactly +-1 beyond |x| = 9.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>tanh(<paramref name="x"/>).</returns>
    public static float Tanh(float x)
    {
        float a = Abs(x);
        float t;
        if (a < 0.55f)
        {
            // Taylor series of tanh: at |x| < 0.55 the first omitted term is below 1e-9 of the result.
            float s = a * a;
            float p = -0.00023912911424355248f; // -443861162/1856156927625
            p = 0.00059002744094558598f + (s * p); // 6404582/10854718875
            p = -0.0014558343870513183f + (s * p); // -929569/638512875
            p = 0.0035921280365724810f + (s * p); // 21844/6081075
            p = -0.0088632355299021966f + (s * p); // -1382/155925
            p = 0.021869488536155203f + (s * p); // 62/2835
            p = -0.053968253968253968f + (s * p); // -17/315
            p = (2f / 15) + (s * p);
            p = (-1f / 3) + (s * p);
            t = a + (a * s * p);
        }
        else if (a >= 9f)
        {
            t = 1f; // 1 - tanh(9) < 3e-8, below half an ulp of 1
        }
        else
        {
            // tanh(a) = 1 - 2 / (e^(2a) + 1); for a >= 0.55 the result is above 0.5, so the subtraction loses at most one bit.
            t = 1f - (2f / (Expm1(2f * a) + 2f));
        }

        return CopySign(t, x); // t is +0 at +-0 and NaN at NaN
    }

    /// <summary>The error function, as TensorFlow's exact gelu uses it.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>erf(<paramref name="x"/>), odd, exactly +-1 beyond |x| = 4.</returns>
    public static float Erf(float x)
    {
        float a = Abs(x);
        float e;
        if (a <= 0.75f)
        {
            // Maclaurin series, x times a polynomial in x^2 whose coefficients are 2/sqrt(pi) (-1)^n / (n! (2n+1)):
            // at |x| <= 0.75 the first omitted term is below 1e-10 of the result, and folding 2/sqrt(pi) into
            // the coefficients saves the rounding of a separate product.
            float s = a * a;
            float p = -1.6365844691234924e-07f;
            p = 1.6462114365889246e-06f + (s * p);
            p = -1.492565035840625e-05f + (s * p);
            p = 0.00012055332981789664f + (s * p);
            p = -0.0008548327023450852f + (s * p);
            p = 0.005223977625442188f + (s * p);
            p = -0.026866170645131252f + (s * p);
            p = 0.11283791670955126f + (s * p);
            p = -0.37612638903183754f + (s * p);
            p = 1.1283791670955126f + (s * p);
            e = a * p;
        }
        else if (a >= 4f)
        {
            e = 1f; // 1 - erf(4) < 2e-8 (a NaN goes to the last branch and stays NaN)
        }
        else
        {
            // erf = 1 - erfc, erfc by the Chebyshev fit of Numerical Recipes (relative error below 1.2e-7),
            // at most 4e-8 of absolute error on erf for |x| >= 0.75.
            float t = 1f / (1f + (0.5f * a));
            float poly = -1.26551223f + (t * (1.00002368f + (t * (0.37409196f + (t * (0.09678418f
                + (t * (-0.18628806f + (t * (0.27886807f + (t * (-1.13520398f + (t * (1.48851587f
                + (t * (-0.82215223f + (t * 0.17087277f)))))))))))))))));
            e = 1f - (t * Exp((-a * a) + poly));
        }

        return CopySign(e, x);
    }

    /// <summary>The logistic sigmoid <c>1 / (1 + e^-x)</c>, finite for every input.</summary>
    /// <param name="x">The argument.</param>
    /// <returns>sigmoid(<paramref name="x"/>).</returns>
    public static float Sigmoid(float x)
    {
        if (x >= 0f)
        {
            return 1f / (1f + Exp(-x));
        }

        float e = Exp(x);
        return e / (1f + e);
    }

    /// <summary>
    /// <c>ln(1 + e^x)</c> as <c>max(x, 0) + ln(1 + e^-|x|)</c>: finite everywhere, and within float rounding of
    /// TensorFlow's thresholded form. (That form, a chain of selects around exp and log, crashes PoCL 6's
    /// LLVM: "Instruction Combining did not reach a fixpoint".)
    /// </summary>
    /// <param name="x">The argument.</param>
    /// <returns>softplus(<paramref name="x"/>).</returns>
    public static float Softplus(float x) => MathF.Max(x, 0f) + Log1p(Exp(-Abs(x))); // a NaN comes through the second term

    /// <summary>
    /// <paramref name="x"/> rounded to TensorFloat-32 (10 explicit mantissa bits) as NVIDIA's
    /// <c>cvt.rna.tf32.f32</c> rounds: to nearest, ties away from zero, in float32's format (low 13 bits zero).
    /// Infinities and NaN pass unchanged; a value that rounds past float's largest finite value becomes infinity.
    /// </summary>
    /// <param name="x">The value.</param>
    /// <returns>The rounded value.</returns>
    public static float RoundToTensorFloat32(float x)
    {
        uint bits = Interop.FloatAsInt(x);
        if ((bits & 0x7F800000u) == 0x7F800000u)
        {
            return x;
        }

        // Adding half of the dropped unit to the magnitude bits rounds half away from zero; a carry moves into
        // the exponent, which is the correct rounding there too.
        return Interop.IntAsFloat((bits + 0x1000u) & 0xFFFFE000u);
    }

    /// <summary>The sign of <paramref name="x"/>: 1, -1, or 0 for zeros and NaN (as the L1 penalty's gradient uses it).</summary>
    /// <param name="x">The value.</param>
    /// <returns>1, -1 or 0.</returns>
    public static float Sign(float x) => (x > 0f ? 1f : 0f) - (x < 0f ? 1f : 0f);

    // Signs by fabs and bits rather than chains of selects, which PoCL 6's LLVM has been seen to choke on.
    private static float Abs(float x) => MathF.Abs(x);

    /// <summary>The magnitude of <paramref name="magnitude"/> with the sign bit of <paramref name="sign"/>.</summary>
    private static float CopySign(float magnitude, float sign) =>
        Interop.IntAsFloat((Interop.FloatAsInt(magnitude) & 0x7FFFFFFFu) | (Interop.FloatAsInt(sign) & 0x80000000u));

    /// <summary>The nearest integer to a value of magnitude below 2^30 (ties away from zero); 0 for NaN on every backend that matters here, where a NaN result follows anyway.</summary>
    private static int Nearest(float v) => (int)(v + (v < 0f ? -0.5f : 0.5f));

    /// <summary>x - k ln 2, by Cody and Waite's two-part constant: the first product and difference are exact.</summary>
    private static float Reduce(float x, int k)
    {
        float kf = k;
        return (x - (kf * Ln2Hi)) - (kf * Ln2Lo);
    }

    /// <summary>(e^r - 1 - r) / r^2 for |r| &lt;= ln(2)/2: Taylor terms to r^7/9!, the rest below 1e-10 relative.</summary>
    private static float Expm1Tail(float r) => (1f / 2) + (r * ExpTailFrom3(r, 1f / 362880));

    /// <summary>(e^r - 1 - r) / r^2 for Exp, one term shorter: Exp adds 1 last, which hides the r^8 term.</summary>
    private static float ExpTail(float r) => (1f / 2) + (r * ExpTailFrom3(r, 0f));

    /// <summary>1/3! + r/4! + ... + r^5/8! + r^6 * last, by Horner's rule.</summary>
    private static float ExpTailFrom3(float r, float last)
    {
        float p = (1f / 40320) + (r * last);
        p = (1f / 5040) + (r * p);
        p = (1f / 720) + (r * p);
        p = (1f / 120) + (r * p);
        p = (1f / 24) + (r * p);
        return (1f / 6) + (r * p);
    }

    /// <summary>2^k for -126 &lt;= k &lt;= 127, built from its bits.</summary>
    private static float PowerOfTwo(int k) => Interop.IntAsFloat((uint)(k + 127) << 23);

    /// <summary>p * 2^k for -151 &lt;= k &lt;= 129 in two exact-range steps, so that results in the subnormals round once and overflow gives infinity.</summary>
    private static float ScaleByPowerOfTwo(float p, int k)
    {
        int half = k >> 1;
        return p * PowerOfTwo(half) * PowerOfTwo(k - half);
    }

    /// <summary>
    /// ln(x) + c for a finite positive x and a correction |c| much below ulp(ln x): x = 2^e m with
    /// m in [sqrt(1/2), sqrt(2)), then ln m = 2 atanh(f / (2 + f)) with f = m - 1 exact, in fdlibm's arrangement
    /// <c>f - (f^2/2 - s (f^2/2 + R))</c>, R from the atanh series in s^2 (s^2 &lt;= 0.0295, terms to s^8).
    /// </summary>
    private static float LogOfPositive(float x, float c)
    {
        int e = 0;
        if (x < 1.17549435e-38f)
        {
            x *= 8388608f; // 2^23: subnormals become normal
            e = -23;
        }

        uint bits = Interop.FloatAsInt(x);
        e += (int)(bits >> 23) - 127;
        float m = Interop.IntAsFloat((bits & 0x007FFFFFu) | 0x3F800000u);
        if (m > 1.41421356f)
        {
            m *= 0.5f;
            e++;
        }

        float f = m - 1f;
        float s = f / (2f + f);
        float z = s * s;
        float r = z * ((2f / 3) + (z * ((2f / 5) + (z * ((2f / 7) + (z * (2f / 9)))))));
        float hfsq = 0.5f * f * f;
        float ef = e;
        return (ef * Ln2Hi) + ((f - (hfsq - (s * (hfsq + r)))) + ((ef * Ln2Lo) + c));
    }
}
