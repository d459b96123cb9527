using System;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ILGpuDeconv;

/// <summary>A Keras (or TF.js) Conv2DTranspose layer config, as model files store it, turned into options.</summary>
internal static class KerasLayerConfig
{
    /// <summary>Builds the options of one Conv2DTranspose config; every field the layer has is read, the rest keep Keras's defaults.</summary>
    public static Conv2DTransposeOptions ToOptions(JsonElement config, string source)
    {
        string name = config.TryGetProperty("name", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : "conv2d_transpose";
        string Where(string field) => $"{source}: layer '{name}', field '{field}'";
        try
        {
            var options = new Conv2DTransposeOptions(Int(config, "filters", Where), Pair(config, "kernel_size", Where) ?? throw new InvalidDataException($"{Where("kernel_size")} is missing."))
            {
                Name = name,
                Strides = Pair(config, "strides", Where) ?? 1,
                DilationRate = Pair(config, "dilation_rate", Where) ?? 1,
                OutputPadding = Pair(config, "output_padding", Where),
                Padding = config.TryGetProperty("padding", out var p) && p.ValueKind == JsonValueKind.String ? KerasNames.ParsePadding(p.GetString()!) : Padding.Valid,
                DataFormat = config.TryGetProperty("data_format", out var f) && f.ValueKind == JsonValueKind.String ? KerasNames.ParseDataFormat(f.GetString()!) : DataFormat.ChannelsLast,
                Activation = Activation.FromName(config.TryGetProperty("activation", out var a) && a.ValueKind == JsonValueKind.String ? a.GetString() : null),
                UseBias = !config.TryGetProperty("use_bias", out var b) || b.ValueKind != JsonValueKind.False,
                Trainable = !config.TryGetProperty("trainable", out var t) || t.ValueKind != JsonValueKind.False,
                Groups = config.TryGetProperty("groups", out var g) && g.ValueKind == JsonValueKind.Number ? g.GetInt32() : 1,
            };
            options.Validate();
            return options;
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"{source}: layer '{name}': {ex.Message}", ex);
        }
    }

    private static int Int(JsonElement config, string field, Func<string, string> where) =>
        config.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int i) ? i : throw new InvalidDataException($"{where(field)} is missing or not an integer.");

    /// <summary>An int or a pair of ints; null when absent or JSON null.</summary>
    private static Size2D? Pair(JsonElement config, string field, Func<string, string> where)
    {
        if (!config.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int single))
        {
            return single;
        }

        var items = v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().ToList() : [];
        if (items.Count == 2 && items.All(x => x.ValueKind == JsonValueKind.Number && x.TryGetInt32(out _)))
        {
            return new Size2D(items[0].GetInt32(), items[1].GetInt32());
        }

        throw new InvalidDataException($"{where(field)} is {v}, not an integer or a pair of integers.");
    }
}
