namespace ILGpuDeconv;

/// <summary>The Keras/TensorFlow <c>padding</c> argument of a transposed convolution.</summary>
public enum Padding
{
    /// <summary><c>"valid"</c>: no implicit padding of the forward convolution; the output is the full transposed result.</summary>
    Valid,

    /// <summary><c>"same"</c>: the output is the input size times the stride; TensorFlow crops the odd remainder at the end.</summary>
    Same,
}
