using System;

namespace ILGpuDeconv;

/// <summary>
/// Parses the text forms of Keras arguments (<c>padding</c>, <c>data_format</c>), case-insensitively,
/// as TensorFlow accepts them.
/// </summary>
public static class KerasNames
{
    /// <summary>
    /// The form Keras identifiers are compared in: trimmed, without underscores, upper case, so that
    /// <c>"hard_sigmoid"</c>, <c>"hardSigmoid"</c> and <c>"HARD_SIGMOID"</c> meet.
    /// </summary>
    internal static string IdentifierKey(string name) =>
        name.Trim().Replace("_", string.Empty, StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>Parses a Keras <c>padding</c> string: <c>"valid"</c> or <c>"same"</c>, in any case.</summary>
    /// <param name="padding">The text, e.g. <c>"SAME"</c>.</param>
    /// <returns>The padding.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="padding"/> is null.</exception>
    /// <exception cref="ArgumentException">The text is neither <c>valid</c> nor <c>same</c>.</exception>
    public static Padding ParsePadding(string padding)
    {
        ArgumentNullException.ThrowIfNull(padding);
        return padding.Trim().ToUpperInvariant() switch
        {
            "VALID" => Padding.Valid,
            "SAME" => Padding.Same,
            _ => throw new ArgumentException(
                $"padding must be \"valid\" or \"same\" (any case); got \"{padding}\".", nameof(padding)),
        };
    }

    /// <summary>Parses a Keras <c>data_format</c> string: <c>"channels_last"</c> or <c>"channels_first"</c>, in any case.</summary>
    /// <param name="dataFormat">The text; TensorFlow's <c>"NHWC"</c> and <c>"NCHW"</c> are accepted too.</param>
    /// <returns>The data format.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="dataFormat"/> is null.</exception>
    /// <exception cref="ArgumentException">The text names no known layout.</exception>
    public static DataFormat ParseDataFormat(string dataFormat)
    {
        ArgumentNullException.ThrowIfNull(dataFormat);
        return dataFormat.Trim().ToUpperInvariant() switch
        {
            "CHANNELS_LAST" or "NHWC" => DataFormat.ChannelsLast,
            "CHANNELS_FIRST" or "NCHW" => DataFormat.ChannelsFirst,
            _ => throw new ArgumentException(
                $"data_format must be \"channels_last\" or \"channels_first\" (any case); got \"{dataFormat}\".",
                nameof(dataFormat)),
        };
    }

    /// <summary>Gives the Keras text of a padding value: <c>"valid"</c> or <c>"same"</c>.</summary>
    /// <param name="padding">The padding.</param>
    /// <returns>The Keras name.</returns>
    public static string ToKerasName(this Padding padding) => padding == Padding.Same ? "same" : "valid";

    /// <summary>Gives the Keras text of a data format: <c>"channels_last"</c> or <c>"channels_first"</c>.</summary>
    /// <param name="dataFormat">The data format.</param>
    /// <returns>The Keras name.</returns>
    public static string ToKerasName(this DataFormat dataFormat) =>
        dataFormat == DataFormat.ChannelsFirst ? "channels_first" : "channels_last";
}
