using System.Globalization;
using ILGpuDeconv.Programs.Tiled;

namespace ILGpuDeconv;

/// <summary>The family of GPU programs a pass runs (<see cref="ProgramRoute.Family"/>).</summary>
public enum ProgramFamily
{
    /// <summary>Register-blocked programs that read the tensors directly; all groups in one launch.</summary>
    Direct,

    /// <summary>The direct programs' form for one input channel per group (depthwise): lanes span groups.</summary>
    Depthwise,

    /// <summary>Tiled implicit GEMMs through shared memory (<see cref="ConvolutionAlgorithm.TiledGemm"/>), once per group.</summary>
    Tiled,
}

/// <summary>How a <see cref="ProgramRoute"/> was chosen.</summary>
public enum RouteOrigin
{
    /// <summary>By the deterministic rules of <see cref="ConvolutionAlgorithm.Auto"/>, or as <see cref="DeconvDevice.Algorithm"/> demanded.</summary>
    Rule,

    /// <summary>By timing every eligible route on this device (<see cref="ConvolutionAlgorithm.Tuned"/>), in this process or a loaded tuning file.</summary>
    Measurement,
}

/// <summary>
/// Which GPU program computes one pass of a layer, and why: the program family, the block tile and the
/// reduction split of the tiled programs, and whether they run on tensor cores. Decided once per call by one
/// rule per pass (or by measurement, <see cref="ConvolutionAlgorithm.Tuned"/>); <see cref="Conv2DTranspose.LastRoute"/>
/// reports the one a layer took.
/// </summary>
public sealed record ProgramRoute
{
    internal ProgramRoute(ConvolutionPass pass, ProgramFamily family, TileShape? tile, int splits, bool tensorCores, RouteOrigin origin, string reason)
    {
        Pass = pass;
        Family = family;
        Tile = tile;
        Splits = splits;
        TensorCores = tensorCores;
        Origin = origin;
        Reason = reason;
    }

    /// <summary>Gets the pass this route computes.</summary>
    public ConvolutionPass Pass { get; }

    /// <summary>Gets the program family.</summary>
    public ProgramFamily Family { get; }

    /// <summary>Gets the block tile of a <see cref="ProgramFamily.Tiled"/> route; null for the others.</summary>
    public TileShape? Tile { get; }

    /// <summary>
    /// Gets how many parts the kernel gradient's reduction is split into (partial sums added afterwards in a fixed
    /// order); 1 for the forward pass and the input gradient.
    /// </summary>
    public int Splits { get; }

    /// <summary>Gets a value indicating whether the tiled programs run their TF32 tensor-core loops (<c>mma.sync</c>).</summary>
    public bool TensorCores { get; private init; }

    /// <summary>Gets how the route was chosen.</summary>
    public RouteOrigin Origin { get; private init; }

    /// <summary>Gets why, in words: the rule that applied, or the measured times.</summary>
    public string Reason { get; private init; }

    /// <summary>Gets a short name of the route without its reason, e.g. <c>tiled 128x64, 12 splits, tensor cores</c>.</summary>
    public string Name => Family switch
    {
        ProgramFamily.Tiled => string.Create(
            CultureInfo.InvariantCulture,
            $"tiled {TiledGemm.Rows(Tile!.Value)}x{TiledGemm.Columns(Tile!.Value)}{(Splits > 1 ? $", {Splits} splits" : string.Empty)}{(TensorCores ? ", tensor cores" : string.Empty)}"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{(Family == ProgramFamily.Direct ? "direct" : "depthwise")}{(Splits > 1 ? $", {Splits} splits" : string.Empty)}"),
    };

    /// <summary>Formats the route, e.g. <c>Forward: tiled 128x128 (rule: Auto on CUDA runs the tiled programs)</c>.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{Pass}: {Name} ({(Origin == RouteOrigin.Rule ? "rule" : "measured")}: {Reason})";

    /// <summary>The same route, chosen another way or for another reason.</summary>
    internal ProgramRoute With(RouteOrigin origin, string reason) => this with { Origin = origin, Reason = reason };

    /// <summary>
    /// The route as it ran, given the launcher's <see cref="Launcher.TensorCoreFailure"/> after the launch: where the
    /// tensor-core loops failed to compile, load or launch during it, the launcher ran the SIMT loops with the same TF32
    /// operands, and the route says so.
    /// </summary>
    internal ProgramRoute AsRun(string? tensorCoreFailure) => TensorCores && tensorCoreFailure is not null
        ? this with { TensorCores = false, Reason = $"{Reason}; the tensor-core loops failed here, so the SIMT loops ran ({tensorCoreFailure})" }
        : this;

    /// <summary>Gets the chunk plan of a direct kernel-gradient route (its <see cref="Splits"/> chunks).</summary>
    internal Programs.ChunkPlan Chunks { get; init; }
}
