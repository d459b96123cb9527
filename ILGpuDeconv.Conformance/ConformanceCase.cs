using System;
using System.Collections.Generic;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Text.Json;

namespace ILGpuDeconv.Conformance;

/// <summary>
/// One case of a conformance file (docs/CONFORMANCE-FORMAT.md): a Conv2DTranspose configuration, its
/// inputs and weights, and what TensorFlow computed for it.
/// </summary>
public sealed class ConformanceCase
{
    /// <summary>Gets the index of the case in its file.</summary>
    public int Id { get; init; }

    /// <summary>Gets how the expected values were made (e.g. <c>tfjs_layer</c>).</summary>
    public string Source { get; init; } = string.Empty;

    /// <summary>Gets the file the case was read from.</summary>
    public string File { get; init; } = string.Empty;

    /// <summary>Gets the layer configuration.</summary>
    public required Conv2DTransposeOptions Options { get; init; }

    /// <summary>Gets the activation as the file names it.</summary>
    public required string ActivationName { get; init; }

    /// <summary>Gets the input shape, in the case's data format.</summary>
    public required TensorShape InputShape { get; init; }

    /// <summary>Gets the kernel shape, Keras's <c>[kh, kw, filters / groups, C]</c>.</summary>
    public required TensorShape KernelShape { get; init; }

    /// <summary>Gets the expected output shape, in the case's data format.</summary>
    public required TensorShape OutputShape { get; init; }

    /// <summary>Gets the crop at the top and left, when the file records it.</summary>
    public (int Top, int Left)? CropBegin { get; init; }

    /// <summary>Gets the input values.</summary>
    public required float[] Input { get; init; }

    /// <summary>Gets the kernel values.</summary>
    public required float[] Kernel { get; init; }

    /// <summary>Gets the bias values, or null without bias.</summary>
    public float[]? Bias { get; init; }

    /// <summary>Gets the upstream gradient of <c>loss = sum(output * upstream)</c>, when the case has gradients.</summary>
    public float[]? Upstream { get; init; }

    /// <summary>Gets the expected output (after bias and activation).</summary>
    public required float[] Output { get; init; }

    /// <summary>Gets the expected input gradient.</summary>
    public float[]? GradInput { get; init; }

    /// <summary>Gets the expected kernel gradient.</summary>
    public float[]? GradKernel { get; init; }

    /// <summary>Gets the expected bias gradient.</summary>
    public float[]? GradBias { get; init; }

    /// <summary>Gets a value indicating whether the file holds the gradients of <c>sum(output * upstream)</c>.</summary>
    public bool HasGradients => Upstream is not null && GradInput is not null && GradKernel is not null;

    /// <summary>A one-line description for messages.</summary>
    public string Describe() => string.Create(
        CultureInfo.InvariantCulture,
        $"{Path.GetFileName(File)}#{Id} ({Source}): input {InputShape}, filters={Options.Filters}, kernel_size={Options.KernelSize}, " +
        $"strides={Options.Strides}, padding={(Options.Pads is { } pads ? $"pads ({pads})" : Options.ExplicitPadding is { } p ? p.ToString() : Options.Padding.ToKerasName())}, {Options.DataFormat.ToKerasName()}, " +
        $"dilation={Options.DilationRate}, output_padding={Options.OutputPadding?.ToString() ?? "None"}, " +
        $"use_bias={Options.UseBias}, activation={ActivationName}");

    /// <summary>Reads every case of a conformance file.</summary>
    public static IReadOnlyList<ConformanceCase> Load(string path)
    {
        using var stream = System.IO.File.OpenRead(path);
        using var document = ParseJson(stream, path);
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{path}: a conformance file is a JSON array of cases.");
        }

        var cases = new List<ConformanceCase>();
        int index = 0;
        foreach (var element in document.RootElement.EnumerateArray())
        {
            try
            {
                cases.Add(Parse(element, path, index));
            }
            catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException or FormatException or ArgumentException or IndexOutOfRangeException)
            {
                throw new InvalidDataException($"{path}: case at index {index} is malformed: {ex.Message}", ex);
            }
            catch (NotSupportedException ex)
            {
                throw new NotSupportedException($"{path}: case at index {index} needs what this layer does not do yet: {ex.Message}", ex);
            }

            index++;
        }

        return cases;
    }

    private static JsonDocument ParseJson(Stream stream, string path)
    {
        try
        {
            return JsonDocument.Parse(stream, new JsonDocumentOptions { AllowTrailingCommas = true });
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path} is not valid JSON (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine + 1}): {ex.Message}", ex);
        }
    }

    private static ConformanceCase Parse(JsonElement e, string path, int index)
    {
        var parsed = ParseFields(e, path, index);
        int filters = parsed.Options.Filters;
        Check(parsed.Input, "input", parsed.InputShape.ElementCount, $"input_shape {parsed.InputShape}");
        Check(parsed.Kernel, "kernel", parsed.KernelShape.ElementCount, $"kernel_shape {parsed.KernelShape}");
        Check(parsed.Bias, "bias", filters, $"filters={filters}");
        Check(parsed.Output, "output", parsed.OutputShape.ElementCount, $"output_shape {parsed.OutputShape}");
        Check(parsed.Upstream, "upstream", parsed.OutputShape.ElementCount, $"output_shape {parsed.OutputShape}");
        Check(parsed.GradInput, "grad_input", parsed.InputShape.ElementCount, $"input_shape {parsed.InputShape}");
        Check(parsed.GradKernel, "grad_kernel", parsed.KernelShape.ElementCount, $"kernel_shape {parsed.KernelShape}");
        Check(parsed.GradBias, "grad_bias", filters, $"filters={filters}");
        return parsed;

        void Check(float[]? values, string field, long expected, string because)
        {
            if (values is not null && values.Length != expected)
            {
                throw new ArgumentException($"field '{field}' holds {values.Length} values; {because} needs {expected}.");
            }
        }
    }

    /// <summary>config.pads: <c>[top, bottom, left, right]</c>, padding per edge (ONNX's pads, tf.nn's explicit padding).</summary>
    private static Pads2D Pads(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() != 4)
        {
            throw new ArgumentException("field 'pads' must be [top, bottom, left, right]");
        }

        return new Pads2D(e[0].GetInt32(), e[1].GetInt32(), e[2].GetInt32(), e[3].GetInt32());
    }

    private static ConformanceCase ParseFields(JsonElement e, string path, int index)
    {
        var config = e.GetProperty("config");
        string activation = config.TryGetProperty("activation", out var act) && act.ValueKind == JsonValueKind.String
            ? act.GetString()!
            : "linear";
        // config.padding: Keras's "valid"/"same", or PyTorch's explicit [ph, pw].
        var padding = Optional(config, "padding");
        bool explicitPadding = padding is { ValueKind: JsonValueKind.Array };

        var options = new Conv2DTransposeOptions(config.GetProperty("filters").GetInt32(), Pair(config.GetProperty("kernel_size")))
        {
            Strides = Optional(config, "strides") is { } s ? Pair(s) : 1,
            Padding = explicitPadding ? Padding.Valid : KerasNames.ParsePadding(padding?.GetString() ?? "valid"),
            ExplicitPadding = explicitPadding ? Pair(padding!.Value) : null,
            Groups = Optional(config, "groups") is { } groups ? groups.GetInt32() : 1,
            DataFormat = KerasNames.ParseDataFormat(OptionalString(config, "data_format") ?? "channels_last"),
            UseBias = Optional(config, "use_bias") is not { } b || b.GetBoolean(),
            Activation = Activation.FromName(activation),
            DilationRate = Optional(config, "dilation_rate") is { } d ? Pair(d) : 1,
            OutputPadding = Optional(config, "output_padding") is { } op ? Pair(op) : null,
            Pads = Optional(config, "pads") is { } pads ? Pads(pads) : null,
        };
        return new ConformanceCase
        {
            Id = Optional(e, "id") is { } id ? id.GetInt32() : index,
            Source = OptionalString(e, "source") ?? string.Empty,
            File = path,
            Options = options,
            ActivationName = activation,
            InputShape = Shape(e.GetProperty("input_shape")),
            KernelShape = Shape(e.GetProperty("kernel_shape")),
            OutputShape = Shape(e.GetProperty("output_shape")),
            CropBegin = Optional(e, "crop_begin") is { } crop ? (crop[0].GetInt32(), crop[1].GetInt32()) : null,
            Input = Floats(e.GetProperty("input"))!,
            Kernel = Floats(e.GetProperty("kernel"))!,
            Bias = Floats(Optional(e, "bias")),
            Upstream = Floats(Optional(e, "upstream")),
            Output = Floats(e.GetProperty("output"))!,
            GradInput = Floats(Optional(e, "grad_input")),
            GradKernel = Floats(Optional(e, "grad_kernel")),
            GradBias = Floats(Optional(e, "grad_bias")),
        };
    }

    private static JsonElement? Optional(JsonElement e, string name) =>
        e.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? OptionalString(JsonElement e, string name) => Optional(e, name)?.GetString();

    private static Size2D Pair(JsonElement e) => e.ValueKind == JsonValueKind.Number
        ? new Size2D(e.GetInt32())
        : new Size2D(e[0].GetInt32(), e[1].GetInt32());

    private static TensorShape Shape(JsonElement e) => new(e.EnumerateArray().Select(d => d.GetInt32()).ToArray());

    private static float[]? Floats(JsonElement? e)
    {
        if (e is not { } array)
        {
            return null;
        }

        var result = new float[array.GetArrayLength()];
        int i = 0;
        foreach (var v in array.EnumerateArray())
        {
            result[i++] = v.ValueKind == JsonValueKind.String
                ? float.Parse(v.GetString()!, NumberStyles.Float, CultureInfo.InvariantCulture) // "NaN", "Infinity"
                : v.GetSingle();
        }

        return result;
    }
}
