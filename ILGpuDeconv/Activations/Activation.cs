using System;

namespace ILGpuDeconv;

/// <summary>
/// The Keras <c>activation</c> argument: an element-wise function fused into the layer's GPU programs, or
/// <c>softmax</c>/<c>log_softmax</c> along the output's last axis.
/// Use a built-in (<see cref="Relu"/>, <see cref="FromName"/>, ...) or your own struct through
/// <see cref="Custom{TFunction}(string, TFunction)"/>; ILGPU compiles one specialised program per function type.
/// </summary>
public abstract class Activation
{
    private protected Activation(string name) => Name = name;

    /// <summary>Gets the Keras name of the activation (or the name given to a custom one).</summary>
    public string Name { get; }

    /// <summary>Gets Keras <c>linear</c> (also what <c>activation=None</c> means): the identity.</summary>
    public static Activation Linear { get; } = new Activation<LinearFunction>("linear", default);

    /// <summary>Gets Keras <c>relu</c>: <c>max(x, 0)</c>.</summary>
    public static Activation Relu { get; } = new Activation<ReluFunction>("relu", default);

    /// <summary>Gets Keras <c>relu6</c>: <c>min(max(x, 0), 6)</c>.</summary>
    public static Activation Relu6 { get; } = new Activation<Relu6Function>("relu6", default);

    /// <summary>Gets Keras <c>selu</c>: scaled ELU with the self-normalising constants.</summary>
    public static Activation Selu { get; } = new Activation<SeluFunction>("selu", default);

    /// <summary>Gets Keras <c>sigmoid</c>: <c>1 / (1 + exp(-x))</c>.</summary>
    public static Activation Sigmoid { get; } = new Activation<SigmoidFunction>("sigmoid", default);

    /// <summary>Gets Keras <c>tanh</c>.</summary>
    public static Activation Tanh { get; } = new Activation<TanhFunction>("tanh", default);

    /// <summary>Gets Keras <c>softplus</c>: <c>log(1 + exp(x))</c>.</summary>
    public static Activation Softplus { get; } = new Activation<SoftplusFunction>("softplus", default);

    /// <summary>Gets Keras <c>softsign</c>: <c>x / (1 + |x|)</c>.</summary>
    public static Activation Softsign { get; } = new Activation<SoftsignFunction>("softsign", default);

    /// <summary>Gets Keras <c>swish</c> (also named <c>silu</c>): <c>x * sigmoid(x)</c>.</summary>
    public static Activation Swish { get; } = new Activation<SwishFunction>("swish", default);

    /// <summary>Gets Keras <c>silu</c>, the same function as <see cref="Swish"/>.</summary>
    public static Activation Silu => Swish;

    /// <summary>Gets Keras <c>exponential</c>: <c>exp(x)</c>.</summary>
    public static Activation Exponential { get; } = new Activation<ExponentialFunction>("exponential", default);

    /// <summary>Gets Keras <c>mish</c>: <c>x * tanh(softplus(x))</c>.</summary>
    public static Activation Mish { get; } = new Activation<MishFunction>("mish", default);

    /// <summary>Gets Keras 3 <c>hard_silu</c> (also named <c>hard_swish</c>): <c>x * relu6(x + 3) / 6</c>.</summary>
    public static Activation HardSilu { get; } = new Activation<HardSiluFunction>("hard_silu", default);

    /// <summary>
    /// Gets Keras <c>hard_sigmoid</c> as TensorFlow 2 (tf.keras) and TensorFlow.js define it:
    /// <c>clip(0.2 * x + 0.5, 0, 1)</c>. Keras 3 changed the slope to 1/6: use
    /// <see cref="HardSigmoidWith(float, float)"/> with <c>slope: 1f / 6</c> for that one.
    /// </summary>
    public static Activation HardSigmoid { get; } = new Activation<HardSigmoidFunction>("hard_sigmoid", new(0.2f, 0.5f));

    /// <summary>Gets Keras <c>gelu</c> with <c>approximate=False</c>: <c>x * Phi(x)</c>, Phi the standard normal CDF.</summary>
    public static Activation Gelu { get; } = new Activation<GeluFunction>("gelu", default);

    /// <summary>
    /// Gets Keras <c>gelu</c> with <c>approximate=True</c> (TensorFlow.js <c>gelu_new</c>):
    /// <c>0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))</c>.
    /// </summary>
    public static Activation GeluApproximate { get; } = new Activation<GeluTanhFunction>("gelu_new", default);

    /// <summary>Gets Keras <c>leaky_relu</c> with its default <c>negative_slope</c> of 0.2.</summary>
    public static Activation LeakyRelu { get; } = LeakyReluWith(0.2f);

    /// <summary>Gets Keras <c>elu</c> with its default <c>alpha</c> of 1.</summary>
    public static Activation Elu { get; } = EluWith(1f);

    /// <summary>
    /// Gets Keras <c>softmax</c>: normalised along the last axis of the output, as Keras's default
    /// <c>axis=-1</c> does (the filters for channels_last, the width for channels_first).
    /// </summary>
    public static Activation Softmax { get; } = new SoftmaxActivation("softmax", log: false);

    /// <summary>Gets Keras <c>log_softmax</c>: <c>x - logsumexp(x)</c> along the last axis of the output.</summary>
    public static Activation LogSoftmax { get; } = new SoftmaxActivation("log_softmax", log: true);

    /// <summary>Gets a value indicating whether this is the identity, which lets the layer skip activation work in the backward pass.</summary>
    public virtual bool IsLinear => false;

    /// <summary>Gets a value indicating whether the activation is element-wise (softmax and log_softmax are not).</summary>
    public virtual bool IsElementwise => true;

    /// <summary>Creates Keras <c>leaky_relu</c> with a given <c>negative_slope</c>.</summary>
    /// <param name="negativeSlope">The slope for negative inputs (Keras default 0.2).</param>
    /// <returns>The activation.</returns>
    public static Activation LeakyReluWith(float negativeSlope) =>
        new Activation<LeakyReluFunction>("leaky_relu", new(negativeSlope));

    /// <summary>Creates Keras <c>elu</c> with a given <c>alpha</c>.</summary>
    /// <param name="alpha">The scale of the negative part (Keras default 1).</param>
    /// <returns>The activation.</returns>
    public static Activation EluWith(float alpha) => new Activation<EluFunction>("elu", new(alpha));

    /// <summary>Creates <c>hard_sigmoid</c> with a given slope and offset: <c>clip(slope * x + offset, 0, 1)</c>.</summary>
    /// <param name="slope">The slope: 0.2 in TensorFlow 2 and TensorFlow.js, 1/6 in Keras 3.</param>
    /// <param name="offset">The offset (0.5 in every Keras version).</param>
    /// <returns>The activation.</returns>
    public static Activation HardSigmoidWith(float slope, float offset = 0.5f) =>
        new Activation<HardSigmoidFunction>("hard_sigmoid", new(slope, offset));

    /// <summary>
    /// Wraps a user-written activation struct. ILGPU compiles the struct's methods into the layer's
    /// GPU programs (one specialisation per struct type), so it costs what a built-in costs.
    /// </summary>
    /// <typeparam name="TFunction">An unmanaged struct implementing <see cref="IActivationFunction"/>.</typeparam>
    /// <param name="name">A name for messages and summaries.</param>
    /// <param name="function">The instance; its fields (for example a slope) travel to the GPU by value.</param>
    /// <returns>The activation.</returns>
    /// <exception cref="ArgumentException"><paramref name="name"/> is empty.</exception>
    public static Activation Custom<TFunction>(string name, TFunction function = default)
        where TFunction : unmanaged, IActivationFunction
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        return new Activation<TFunction>(name, function);
    }

    /// <summary>
    /// Looks an activation up by its Keras name, case-insensitively, in snake_case or camelCase
    /// (<c>"hard_sigmoid"</c>, <c>"hardSigmoid"</c>). Null, empty and <c>"linear"</c> give <see cref="Linear"/>.
    /// Known names: linear, relu, relu6, leaky_relu, elu, selu, gelu, gelu_new (also gelu_approximate),
    /// sigmoid, hard_sigmoid, tanh, softplus, softsign, swish, silu, exponential, mish, hard_silu, hard_swish,
    /// and the two along the last axis, softmax and log_softmax.
    /// </summary>
    /// <param name="name">The Keras name.</param>
    /// <returns>The activation.</returns>
    /// <exception cref="ArgumentException">The name is not a Keras activation this library knows.</exception>
    public static Activation FromName(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return Linear;
        }

        // Compare without case or underscores, so "hard_sigmoid", "hardSigmoid" and "HARD_SIGMOID" all match.
        return KerasNames.IdentifierKey(name) switch
        {
            "LINEAR" or "NONE" => Linear,
            "RELU" => Relu,
            "RELU6" => Relu6,
            "LEAKYRELU" => LeakyRelu,
            "ELU" => Elu,
            "SELU" => Selu,
            "GELU" => Gelu,
            "GELUNEW" or "GELUAPPROXIMATE" => GeluApproximate,
            "SIGMOID" => Sigmoid,
            "HARDSIGMOID" => HardSigmoid,
            "TANH" => Tanh,
            "SOFTPLUS" => Softplus,
            "SOFTSIGN" => Softsign,
            "SWISH" or "SILU" => Swish,
            "EXPONENTIAL" => Exponential,
            "MISH" => Mish,
            "HARDSILU" or "HARDSWISH" => HardSilu,
            "SOFTMAX" => Softmax,
            "LOGSOFTMAX" => LogSoftmax,
            _ => throw new ArgumentException($"activation \"{name}\" is not a Keras activation this library knows.", nameof(name)),
        };
    }

    /// <summary>Evaluates an element-wise activation on the host, with the same code the GPU programs run.</summary>
    /// <param name="x">The pre-activation value.</param>
    /// <returns>The activation.</returns>
    /// <exception cref="InvalidOperationException">The activation is not element-wise (softmax).</exception>
    public abstract float Apply(float x);

    /// <summary>Evaluates an element-wise activation's derivative on the host, with the same code the GPU programs run.</summary>
    /// <param name="x">The pre-activation value.</param>
    /// <returns>The derivative at <paramref name="x"/>.</returns>
    /// <exception cref="InvalidOperationException">The activation is not element-wise (softmax).</exception>
    public abstract float Derivative(float x);

    /// <summary>Applies the activation in place to rows of <paramref name="rowLength"/> values (the last axis), on the host.</summary>
    /// <param name="values">The pre-activation values, row-major.</param>
    /// <param name="rowLength">The length of the last axis.</param>
    public virtual void ApplyRows(Span<float> values, int rowLength)
    {
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = Apply(values[i]);
        }
    }

    /// <summary>Returns the Keras name.</summary>
    /// <returns>The name.</returns>
    public override string ToString() => Name;

    /// <summary>
    /// Tells a visitor what kind of activation this is, with its concrete function type for element-wise ones,
    /// so the device code is specialised without reflection or type tests.
    /// </summary>
    internal abstract TResult Accept<TResult>(IActivationVisitor<TResult> visitor);
}

/// <summary>Receives an activation: an element-wise function struct, or a normalisation along the last axis.</summary>
/// <typeparam name="TResult">What the visit produces.</typeparam>
internal interface IActivationVisitor<out TResult>
{
    /// <summary>Called for an element-wise activation with its function struct.</summary>
    TResult Elementwise<TFunction>(TFunction function)
        where TFunction : unmanaged, IActivationFunction;

    /// <summary>Called for softmax (<paramref name="log"/> false) and log_softmax along the output's last axis.</summary>
    TResult AlongLastAxis(bool log);
}

/// <summary>An activation backed by the function struct <typeparamref name="TFunction"/>.</summary>
internal sealed class Activation<TFunction> : Activation
    where TFunction : unmanaged, IActivationFunction
{
    private readonly TFunction function;

    public Activation(string name, TFunction function)
        : base(name) => this.function = function;

    public override bool IsLinear => typeof(TFunction) == typeof(LinearFunction);

    public override float Apply(float x) => function.Apply(x);

    public override float Derivative(float x) => function.Derivative(x, function.Apply(x));

    internal override TResult Accept<TResult>(IActivationVisitor<TResult> visitor) => visitor.Elementwise(function);
}

/// <summary>
/// Keras <c>softmax</c> and <c>log_softmax</c> along the last axis. The forward program computes the
/// pre-activation; a row-wise program then normalises it.
/// </summary>
internal sealed class SoftmaxActivation(string name, bool log) : Activation(name)
{
    /// <summary>Gets a value indicating whether this is log_softmax.</summary>
    public bool Log { get; } = log;

    public override bool IsElementwise => false;

    public override float Apply(float x) =>
        throw new InvalidOperationException($"{Name} is not element-wise: it normalises along the last axis (use ApplyRows).");

    public override float Derivative(float x) =>
        throw new InvalidOperationException($"{Name} is not element-wise: its derivative couples a whole row.");

    public override void ApplyRows(Span<float> values, int rowLength)
    {
        for (int start = 0; start < values.Length; start += rowLength)
        {
            var row = values.Slice(start, rowLength);
            float max = float.NegativeInfinity;
            foreach (float v in row)
            {
                max = v > max ? v : max;
            }

            float sum = 0f;
            foreach (float v in row)
            {
                sum += DeviceMath.Exp(v - max);
            }

            for (int i = 0; i < row.Length; i++)
            {
                row[i] = Log ? row[i] - max - DeviceMath.Log(sum) : DeviceMath.Exp(row[i] - max) / sum;
            }
        }
    }

    internal override TResult Accept<TResult>(IActivationVisitor<TResult> visitor) => visitor.AlongLastAxis(Log);
}
