namespace ILGpuDeconv;

/// <summary>
/// An element-wise activation that ILGPU compiles into the layer's GPU programs. Implement it on an
/// unmanaged struct (fields may carry parameters such as a slope) and wrap it with
/// <see cref="Activation.Custom{TFunction}(string, TFunction)"/>. The methods run inside GPU programs:
/// use only arithmetic, the struct's own fields, and <see cref="DeviceMath"/> for exp, log, tanh
/// and their kin (ILGPU turns <see cref="System.MathF"/>'s into approximate instructions on CUDA; its
/// <c>Abs</c>, <c>Min</c>, <c>Max</c> and <c>Sqrt</c> are exact everywhere).
/// </summary>
public interface IActivationFunction
{
    /// <summary>Computes the activation of a pre-activation value.</summary>
    /// <param name="x">The pre-activation value (convolution plus bias).</param>
    /// <returns>The activation <c>f(x)</c>.</returns>
    float Apply(float x);

    /// <summary>Computes the derivative <c>f'(x)</c>, for the backward pass.</summary>
    /// <param name="x">The pre-activation value.</param>
    /// <param name="y">The activation <c>f(x)</c>, already computed, for functions whose derivative is cheaper from it.</param>
    /// <returns>The derivative of the activation at <paramref name="x"/>.</returns>
    float Derivative(float x, float y);
}
