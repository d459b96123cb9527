using System.Text.Json.Serialization;

namespace ILGpuDeconv.Bench.Benchmarks;

/// <summary>One measurement of the <c>quick</c> command, as written to its JSON output.</summary>
public sealed record QuickResult(
    [property: JsonPropertyName("shape")] string Shape,
    [property: JsonPropertyName("pass")] string Pass,
    [property: JsonPropertyName("impl")] string Implementation,
    [property: JsonPropertyName("accelerator")] string Accelerator,
    [property: JsonPropertyName("ms")] double Ms,
    [property: JsonPropertyName("gflops")] double Gflops);
