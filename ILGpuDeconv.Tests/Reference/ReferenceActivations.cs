using System;

namespace ILGpuDeconv.Tests.Reference;

/// <summary>
/// The Keras activations and their derivatives, written again in double precision from their
/// mathematical definitions (TensorFlow's choices at kinks), independent of the library's code.
/// </summary>
public static class ReferenceActivations
{
    public static readonly string[] Names =
    [
        "linear", "relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "gelu_new", "sigmoid", "hard_sigmoid",
        "tanh", "softplus", "softsign", "swish", "exponential", "mish", "hard_silu",
    ];

    /// <summary>Every activation the layer takes: the element-wise ones and the two along the last axis.</summary>
    public static readonly string[] AllNames = [.. Names, "softmax", "log_softmax"];

    private const double SeluAlpha = 1.6732632423543772848170429916717;
    private const double SeluScale = 1.0507009873554804934193349852946;

    public static double Apply(string name, double x) => name switch
    {
        "linear" => x,
        "relu" => Math.Max(x, 0),
        "relu6" => Math.Min(Math.Max(x, 0), 6),
        "leaky_relu" => x > 0 ? x : 0.2 * x,
        "elu" => x > 0 ? x : Math.Exp(x) - 1,
        "selu" => x > 0 ? SeluScale * x : SeluScale * SeluAlpha * (Math.Exp(x) - 1),
        "gelu" => 0.5 * x * (1 + Erf(x / Math.Sqrt(2))),
        "gelu_new" => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + (0.044715 * x * x * x)))),
        "sigmoid" => 1 / (1 + Math.Exp(-x)),
        "hard_sigmoid" => Math.Clamp((0.2 * x) + 0.5, 0, 1),
        "tanh" => Math.Tanh(x),
        "softplus" => Math.Log(1 + Math.Exp(x)),
        "softsign" => x / (1 + Math.Abs(x)),
        "swish" => x / (1 + Math.Exp(-x)),
        "exponential" => Math.Exp(x),
        "mish" => x * Math.Tanh(Math.Log(1 + Math.Exp(x))),
        "hard_silu" => x * Math.Min(Math.Max(x + 3, 0), 6) / 6,
        _ => throw new ArgumentException($"no reference for {name}", nameof(name)),
    };

    /// <summary>The derivative, by the closed form where there is one, else by a central difference in double.</summary>
    public static double Derivative(string name, double x) => name switch
    {
        "linear" => 1,
        "relu" => x > 0 ? 1 : 0,
        "relu6" => x > 0 && x < 6 ? 1 : 0,
        "leaky_relu" => x > 0 ? 1 : 0.2,
        "elu" => x > 0 ? 1 : Math.Exp(x),
        "selu" => x > 0 ? SeluScale : SeluScale * SeluAlpha * Math.Exp(x),
        "sigmoid" => Apply("sigmoid", x) * (1 - Apply("sigmoid", x)),
        "hard_sigmoid" => (0.2 * x) + 0.5 is >= 0 and <= 1 ? 0.2 : 0,
        "tanh" => 1 - (Math.Tanh(x) * Math.Tanh(x)),
        "exponential" => Math.Exp(x),
        _ => (Apply(name, x + 1e-6) - Apply(name, x - 1e-6)) / 2e-6,
    };

    /// <summary>erf by its Taylor series (small |x|) or continued fraction (large |x|), to about 1e-15.</summary>
    public static double Erf(double x)
    {
        double z = Math.Abs(x);
        double result;
        if (z < 3)
        {
            double term = z, sum = z;
            for (int n = 1; n < 200; n++)
            {
                term *= -z * z / n;
                double next = term / ((2 * n) + 1);
                sum += next;
                if (Math.Abs(next) < 1e-17)
                {
                    break;
                }
            }

            result = 2 / Math.Sqrt(Math.PI) * sum;
        }
        else
        {
            // erfc(z) = exp(-z^2)/sqrt(pi) * 1/(z + 1/2/(z + 1/(z + 3/2/(z + ...))))
            double fraction = z;
            for (int n = 60; n >= 1; n--)
            {
                fraction = z + (n / 2.0 / fraction);
            }

            result = 1 - (Math.Exp(-z * z) / Math.Sqrt(Math.PI) / fraction);
        }

        return x < 0 ? -result : result;
    }
}
