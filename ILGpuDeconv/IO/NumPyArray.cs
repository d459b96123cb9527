using System;

namespace ILGpuDeconv;

/// <summary>A float array read from or written to NumPy's <c>.npy</c> format: its values (row-major) and shape.</summary>
/// <param name="Values">The values, row-major (C order).</param>
/// <param name="Shape">The shape.</param>
public sealed record NumPyArray(float[] Values, TensorShape Shape)
{
    /// <summary>Checks that the values fill the shape.</summary>
    /// <exception cref="ArgumentException">They do not.</exception>
    public void Validate() => DeviceTensor.CheckLength(Values, Shape, nameof(Values));
}
