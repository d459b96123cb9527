namespace ILGpuDeconv;

/// <summary>The layout of a transposed-convolution kernel in a weights file.</summary>
public enum WeightLayout
{
    /// <summary>TensorFlow / Keras: <c>[kh, kw, filters, in_channels]</c>.</summary>
    Keras,

    /// <summary>PyTorch's <c>ConvTranspose2d.weight</c>: <c>[in_channels, filters, kh, kw]</c>, the same taps, transposed.</summary>
    PyTorch,
}
