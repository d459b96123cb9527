using System;

namespace ILGpuDeconv;

// The built-in Keras activations as structs the GPU programs take as type arguments. Derivatives follow what TensorFlow's
// autodiff of the same formula gives, including its choice at the kinks (relu'(0) = 0). Transcendental
// functions come from DeviceMath, never MathF, so every backend computes the same values.

/// <summary>Keras <c>linear</c>: the identity.</summary>
internal readonly struct LinearFunction : IActivationFunction
{
    public float Apply(float x) => x;

    public float Derivative(float x, float y) => 1f;
}

/// <summary>Keras <c>relu</c>: <c>max(x, 0)</c>.</summary>
internal readonly struct ReluFunction : IActivationFunction
{
    public float Apply(float x) => x <= 0f ? 0f : x; // NaN falls through, as in TensorFlow

    public float Derivative(float x, float y) => x > 0f ? 1f : 0f;
}

/// <summary>Keras <c>relu6</c>: <c>min(max(x, 0), 6)</c>.</summary>
internal readonly struct Relu6Function : IActivationFunction
{
    public float Apply(float x) => x <= 0f ? 0f : x >= 6f ? 6f : x;

    public float Derivative(float x, float y) => x > 0f && x < 6f ? 1f : 0f;
}

/// <summary>Keras <c>leaky_relu</c>: <c>x</c> for positive x, else <c>negative_slope * x</c>.</summary>
internal readonly struct LeakyReluFunction(float negativeSlope) : IActivationFunction
{
    private readonly float negativeSlope = negativeSlope;

    /// <summary>Gets the slope for negative inputs (host side: ONNX's LeakyRelu alpha).</summary>
    public float NegativeSlope => negativeSlope;

    public float Apply(float x) => x > 0f ? x : negativeSlope * x;

    public float Derivative(float x, float y) => x > 0f ? 1f : negativeSlope;
}

/// <summary>Keras <c>elu</c>: <c>x</c> for positive x, else <c>alpha * (exp(x) - 1)</c>.</summary>
internal readonly struct EluFunction(float alpha) : IActivationFunction
{
    private readonly float alpha = alpha;

    /// <summary>Gets the scale of the negative part (host side: ONNX's Elu alpha).</summary>
    public float Alpha => alpha;

    public float Apply(float x) => x > 0f ? x : alpha * DeviceMath.Expm1(x);

    public float Derivative(float x, float y) => x > 0f ? 1f : y + alpha;
}

/// <summary>Keras <c>selu</c>: <c>scale * elu(x, alpha)</c> with the self-normalising constants.</summary>
internal readonly struct SeluFunction : IActivationFunction
{
    public const float Scale = 1.0507009873554804934193349852946f;

    /// <summary>scale * alpha, as one constant (TensorFlow does not round the product twice).</summary>
    public const float ScaleAlpha = 1.7580993408473768599402175208123f;

    public float Apply(float x) => x > 0f ? Scale * x : ScaleAlpha * DeviceMath.Expm1(x);

    public float Derivative(float x, float y) => x > 0f ? Scale : y + ScaleAlpha;
}

/// <summary>Keras <c>gelu</c> with <c>approximate=False</c>: <c>x * Phi(x)</c>, Phi the normal CDF.</summary>
internal readonly struct GeluFunction : IActivationFunction
{
    /// <summary>1/sqrt(2).</summary>
    private const float InvSqrt2 = 0.70710678118654752f;

    /// <summary>1/sqrt(2*pi).</summary>
    private const float InvSqrt2Pi = 0.39894228040143268f;

    public float Apply(float x) => 0.5f * x * (1f + DeviceMath.Erf(x * InvSqrt2));

    public float Derivative(float x, float y) =>
        (0.5f * (1f + DeviceMath.Erf(x * InvSqrt2)))
        + (x * InvSqrt2Pi * DeviceMath.Exp(-0.5f * x * x));
}

/// <summary>Keras <c>gelu</c> with <c>approximate=True</c> (TF.js <c>gelu_new</c>): the tanh approximation.</summary>
internal readonly struct GeluTanhFunction : IActivationFunction
{
    /// <summary>sqrt(2/pi).</summary>
    private const float Sqrt2OverPi = 0.79788456080286536f;

    private const float Cubic = 0.044715f;

    public float Apply(float x) =>
        0.5f * x * (1f + DeviceMath.Tanh(Sqrt2OverPi * (x + (Cubic * x * x * x))));

    public float Derivative(float x, float y)
    {
        float t = DeviceMath.Tanh(Sqrt2OverPi * (x + (Cubic * x * x * x)));
        return (0.5f * (1f + t)) + (0.5f * x * (1f - (t * t)) * Sqrt2OverPi * (1f + (3f * Cubic * x * x)));
    }
}

/// <summary>Keras <c>sigmoid</c>: <c>1 / (1 + exp(-x))</c>.</summary>
internal readonly struct SigmoidFunction : IActivationFunction
{
    public float Apply(float x) => DeviceMath.Sigmoid(x);

    public float Derivative(float x, float y) => y * (1f - y);
}

/// <summary>Keras <c>hard_sigmoid</c>: <c>clip(slope * x + offset, 0, 1)</c>.</summary>
internal readonly struct HardSigmoidFunction(float slope, float offset) : IActivationFunction
{
    private readonly float slope = slope;
    private readonly float offset = offset;

    /// <summary>Gets the slope (host side: ONNX's HardSigmoid alpha).</summary>
    public float Slope => slope;

    /// <summary>Gets the offset (host side: ONNX's HardSigmoid beta).</summary>
    public float Offset => offset;

    public float Apply(float x)
    {
        float v = (slope * x) + offset;
        return v < 0f ? 0f : v > 1f ? 1f : v;
    }

    public float Derivative(float x, float y)
    {
        float v = (slope * x) + offset;
        return v >= 0f && v <= 1f ? slope : 0f;
    }
}

/// <summary>Keras <c>tanh</c>.</summary>
internal readonly struct TanhFunction : IActivationFunction
{
    public float Apply(float x) => DeviceMath.Tanh(x);

    public float Derivative(float x, float y) => 1f - (y * y);
}

/// <summary>Keras <c>softplus</c>: <c>log(1 + exp(x))</c>.</summary>
internal readonly struct SoftplusFunction : IActivationFunction
{
    public float Apply(float x) => DeviceMath.Softplus(x);

    public float Derivative(float x, float y) => DeviceMath.Sigmoid(x);
}

/// <summary>Keras <c>softsign</c>: <c>x / (1 + |x|)</c>.</summary>
internal readonly struct SoftsignFunction : IActivationFunction
{
    public float Apply(float x) => x / (1f + MathF.Abs(x));

    public float Derivative(float x, float y)
    {
        float d = 1f + MathF.Abs(x);
        return 1f / (d * d);
    }
}

/// <summary>Keras <c>swish</c> / <c>silu</c>: <c>x * sigmoid(x)</c>.</summary>
internal readonly struct SwishFunction : IActivationFunction
{
    public float Apply(float x) => x * DeviceMath.Sigmoid(x);

    public float Derivative(float x, float y)
    {
        float s = DeviceMath.Sigmoid(x);
        return s * (1f + (x * (1f - s)));
    }
}

/// <summary>Keras <c>exponential</c>: <c>exp(x)</c>.</summary>
internal readonly struct ExponentialFunction : IActivationFunction
{
    public float Apply(float x) => DeviceMath.Exp(x);

    public float Derivative(float x, float y) => y;
}

/// <summary>Keras <c>mish</c>: <c>x * tanh(softplus(x))</c>.</summary>
internal readonly struct MishFunction : IActivationFunction
{
    public float Apply(float x) => x * DeviceMath.Tanh(DeviceMath.Softplus(x));

    public float Derivative(float x, float y)
    {
        float t = DeviceMath.Tanh(DeviceMath.Softplus(x));
        return t + (x * (1f - (t * t)) * DeviceMath.Sigmoid(x));
    }
}

/// <summary>Keras <c>hard_silu</c> / <c>hard_swish</c>: <c>x * relu6(x + 3) / 6</c>.</summary>
internal readonly struct HardSiluFunction : IActivationFunction
{
    public float Apply(float x) => x * MathF.Min(MathF.Max(x + 3f, 0f), 6f) / 6f;

    public float Derivative(float x, float y) => x <= -3f ? 0f : x >= 3f ? 1f : ((2f * x) + 3f) / 6f; // relu6' is 0 at its kinks, as in TensorFlow
}
