namespace ILGpuDeconv;

/// <summary>The Keras/TensorFlow <c>data_format</c> argument: the memory layout of input and output tensors.</summary>
public enum DataFormat
{
    /// <summary><c>"channels_last"</c> (the Keras default): tensors are <c>[batch, height, width, channels]</c> (NHWC).</summary>
    ChannelsLast,

    /// <summary><c>"channels_first"</c>: tensors are <c>[batch, channels, height, width]</c> (NCHW).</summary>
    ChannelsFirst,
}
