using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.Globalization;
using System.IO;
using System.Linq;
using System.Reflection;
using System.Text.Json;
using System.Threading;

namespace ILGpuDeconv;

/// <summary>
/// The measured routes of one device, for <see cref="ConvolutionAlgorithm.Tuned"/> (PyTorch's
/// <c>torch.backends.cudnn.benchmark = True</c>): on the first call of a layer with a new key (the pass, every size,
/// the data format, the groups and the precision) each eligible route runs <see cref="Repeats"/> times after a
/// warm-up, and the fastest is kept for that key for the rest of the process. <see cref="Save"/> and
/// <see cref="Load"/> carry the table to the next process, which then takes the same routes, so its results are
/// bitwise those of the first (which <c>cudnn.benchmark</c> does not promise). Every route gives results within the
/// same tolerance of TensorFlow's; they differ in speed and in summation order.
/// </summary>
/// <remarks>
/// Thread safety: every member may be called from any thread. Lifetime: the table belongs to its device; once the
/// device's Dispose has begun, <see cref="Save"/> and <see cref="Load"/> throw <see cref="ObjectDisposedException"/>
/// before touching a file, and a measurement runs inside a layer's call, which the device's Dispose waits for.
/// </remarks>
public sealed class ConvolutionTuning
{
    /// <summary>The <c>format</c> field of a tuning file.</summary>
    public const string FileFormat = "ilgpudeconv-tuning";

    /// <summary>The largest tuning file <see cref="Load"/> reads.</summary>
    public const long MaxFileBytes = 16L << 20;

    private const int FileVersion = 1;
    private readonly DeconvDevice device;
    private readonly object sync = new();
    private readonly Dictionary<string, TuningEntry> entries = new(StringComparer.Ordinal);
    private int repeats = 3;

    internal ConvolutionTuning(DeconvDevice device) => this.device = device;

    /// <summary>
    /// Gets what a tuning file must name to be loaded on this device: the accelerator (with its driver on CUDA and OpenCL), the
    /// host's processors, ILGPU's and this library's versions.
    /// </summary>
    public string DeviceIdentity => IdentityOf(device);

    /// <summary>Gets or sets the timed runs of each candidate route after its warm-up (default 3; the fastest counts).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is below 1 or above 100.</exception>
    public int Repeats
    {
        get => Volatile.Read(ref repeats);
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100);
            Volatile.Write(ref repeats, value);
        }
    }

    /// <summary>Gets the measured routes, ordered by key.</summary>
    public IReadOnlyList<TuningEntry> Entries
    {
        get
        {
            lock (sync)
            {
                return [.. entries.Values.OrderBy(e => e.Key, StringComparer.Ordinal)];
            }
        }
    }

    /// <summary>Gets why the last <see cref="Load"/> ignored its file, or null when it loaded one (or none was tried).</summary>
    public string? Warning { get; private set; }

    /// <summary>
    /// Gets or sets the chooser used instead of timing (tests run every candidate route through the measured path
    /// with it): given the candidates, the index of the one to keep.
    /// </summary>
    internal Func<IReadOnlyList<ProgramRoute>, int>? Picker { get; set; }

    /// <summary>Forgets every measured route; the next call of each key measures again.</summary>
    public void Clear()
    {
        lock (sync)
        {
            entries.Clear();
        }
    }

    /// <summary>Writes the table as JSON, keyed by <see cref="DeviceIdentity"/> (to a temporary file first, then moved over <paramref name="path"/>).</summary>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentException"><paramref name="path"/> is empty.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    /// <exception cref="ObjectDisposedException">The device was disposed (the table went with it).</exception>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var call = device.EnterCall();
        var list = Entries;
        string temporary = path + ".tmp";
        using (var stream = File.Create(temporary))
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            writer.WriteStartObject();
            writer.WriteString("format", FileFormat);
            writer.WriteNumber("version", FileVersion);
            writer.WriteString("device", DeviceIdentity);
            writer.WriteStartArray("entries");
            foreach (var entry in list)
            {
                writer.WriteStartObject();
                writer.WriteString("key", entry.Key);
                writer.WriteString("family", entry.Route.Family.ToString());
                if (entry.Route.Tile is { } tile)
                {
                    writer.WriteString("tile", tile.ToString());
                }

                writer.WriteNumber("splits", entry.Route.Splits);
                writer.WriteBoolean("tensorCores", entry.Route.TensorCores);
                writer.WriteNumber("microseconds", entry.Microseconds);
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        File.Move(temporary, path, overwrite: true);
    }

    /// <summary>
    /// Adds the routes of a file <see cref="Save"/> wrote on this device. A missing, unreadable, corrupt or foreign
    /// file (another device, driver or library version) is ignored as a whole: the table is unchanged,
    /// <see cref="Warning"/> says why (also as a <see cref="Trace"/> warning), and the result is false. A loaded route
    /// is used only while it is still one the device would measure for its key; otherwise that key is measured again.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <returns>True when the file was loaded.</returns>
    /// <exception cref="ObjectDisposedException">The device was disposed.</exception>
    public bool Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        using var call = device.EnterCall();
        try
        {
            var loaded = Read(path, DeviceIdentity);
            lock (sync)
            {
                foreach (var entry in loaded)
                {
                    entries[entry.Key] = entry;
                }
            }

            Warning = null;
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or JsonException)
        {
            Warning = $"tuning file {path} ignored: {e.Message}";
            Trace.TraceWarning(Warning);
            return false;
        }
    }

    /// <summary>
    /// The route for <paramref name="key"/>: the one measured before if it is still among <paramref name="candidates"/>,
    /// else the fastest of them, timed now with <paramref name="run"/> (which launches one candidate's programs; their
    /// outputs are overwritten by the caller's own launch afterwards).
    /// </summary>
    internal ProgramRoute Choose(string key, IReadOnlyList<ProgramRoute> candidates, Action<ProgramRoute> run)
    {
        lock (sync)
        {
            if (entries.TryGetValue(key, out var known) && candidates.FirstOrDefault(c => SameProgram(c, known.Route)) is { } still)
            {
                return still.With(RouteOrigin.Measurement, known.Route.Reason);
            }
        }

        var chosen = Picker is { } pick ? Picked(candidates, pick) : Measure(candidates, run);
        lock (sync)
        {
            entries[key] = chosen with { Key = key };
        }

        return chosen.Route;
    }

    /// <summary>Gets whether the route recorded for <paramref name="key"/> is one of <paramref name="candidates"/> (so no measurement is due).</summary>
    internal bool Knows(string key, IReadOnlyList<ProgramRoute> candidates)
    {
        lock (sync)
        {
            return entries.TryGetValue(key, out var known) && candidates.Any(c => SameProgram(c, known.Route));
        }
    }

    /// <summary>The identity of a device, as a tuning file records it.</summary>
    internal static string IdentityOf(DeconvDevice device) => string.Create(
        CultureInfo.InvariantCulture,
        $"{device.Info.Kind}: {device.Info.Name}, {device.Info.MultiprocessorCount} multiprocessors; host {HostProcessor()}, {Environment.ProcessorCount} cores; "
        + $"ILGPU {typeof(ILGPU.Context).Assembly.GetName().Version}; ILGpuDeconv {LibraryVersion()}");

    private static bool SameProgram(ProgramRoute a, ProgramRoute b) =>
        a.Pass == b.Pass && a.Family == b.Family && a.Tile == b.Tile && a.Splits == b.Splits && a.TensorCores == b.TensorCores;

    private static TuningEntry Picked(IReadOnlyList<ProgramRoute> candidates, Func<IReadOnlyList<ProgramRoute>, int> pick)
    {
        var route = candidates[pick(candidates)];
        return new TuningEntry(string.Empty, route.With(RouteOrigin.Measurement, "picked (test)"), 0);
    }

    private TuningEntry Measure(IReadOnlyList<ProgramRoute> candidates, Action<ProgramRoute> run)
    {
        int timed = Repeats;
        var times = new List<(ProgramRoute Route, double Microseconds)>();
        var failures = new List<string>();
        foreach (var candidate in candidates)
        {
            try
            {
                run(candidate); // warm-up: compiles the programs on first use
                device.Synchronize();
                double best = double.PositiveInfinity;
                for (int i = 0; i < timed; i++)
                {
                    long start = Stopwatch.GetTimestamp();
                    run(candidate);
                    device.Synchronize();
                    best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalMicroseconds);
                }

                times.Add((candidate, best));
            }
            catch (Exception e) when (e is not (OutOfMemoryException or ObjectDisposedException))
            {
                // A route this device cannot run (say, a program that fails to compile) is no candidate.
                failures.Add($"{candidate.Name}: {e.GetType().Name}");
            }
        }

        if (times.Count == 0)
        {
            throw new InvalidOperationException($"Tuned: no route of {candidates[0].Pass} ran on {device.Info.Name}: {string.Join("; ", failures)}.");
        }

        var fastest = times.MinBy(t => t.Microseconds);
        string each = string.Join("; ", times.OrderBy(t => t.Microseconds).Select(t => string.Create(CultureInfo.InvariantCulture, $"{t.Route.Name} {t.Microseconds:F0} us")));
        string reason = string.Create(CultureInfo.InvariantCulture, $"fastest of {times.Count} after {timed} timed runs each: {each}")
            + (failures.Count > 0 ? $"; failed: {string.Join("; ", failures)}" : string.Empty);
        return new TuningEntry(string.Empty, fastest.Route.With(RouteOrigin.Measurement, reason), fastest.Microseconds);
    }

    private static List<TuningEntry> Read(string path, string identity)
    {
        var info = new FileInfo(path);
        if (!info.Exists)
        {
            throw new FileNotFoundException("the file does not exist", path);
        }

        if (info.Length > MaxFileBytes)
        {
            throw new InvalidDataException($"{info.Length} bytes, more than the {MaxFileBytes} a tuning file may hold");
        }

        using var document = JsonDocument.Parse(File.ReadAllBytes(path), new JsonDocumentOptions { MaxDepth = 8 });
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || String(root, "format") != FileFormat)
        {
            throw new InvalidDataException($"not a tuning file (its format is not \"{FileFormat}\")");
        }

        if (!root.TryGetProperty("version", out var version) || version.ValueKind != JsonValueKind.Number || !version.TryGetInt32(out int number) || number != FileVersion)
        {
            throw new InvalidDataException($"not version {FileVersion} of the tuning file");
        }

        string device = String(root, "device");
        if (device != identity)
        {
            throw new InvalidDataException($"made for \"{device}\", not this device (\"{identity}\")");
        }

        if (!root.TryGetProperty("entries", out var list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException("no entries array");
        }

        var entries = new List<TuningEntry>();
        foreach (var item in list.EnumerateArray())
        {
            entries.Add(Entry(item, path));
        }

        return entries;
    }

    private static TuningEntry Entry(JsonElement item, string path)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidDataException("an entry is not an object");
        }

        string key = String(item, "key");
        if (key.Length == 0 || !Enum.TryParse<ConvolutionPass>(key.Split(' ')[0], out var pass) || !Enum.IsDefined(pass))
        {
            throw new InvalidDataException($"entry \"{key}\" names no pass");
        }

        if (!Enum.TryParse<ProgramFamily>(String(item, "family"), out var family) || !Enum.IsDefined(family))
        {
            throw new InvalidDataException($"entry \"{key}\" names no program family");
        }

        TileShape? tile = null;
        if (item.TryGetProperty("tile", out var tileText))
        {
            if (tileText.ValueKind != JsonValueKind.String || !Enum.TryParse<TileShape>(tileText.GetString(), out var shape) || !Enum.IsDefined(shape))
            {
                throw new InvalidDataException($"entry \"{key}\" names no block tile");
            }

            tile = shape;
        }

        if ((family == ProgramFamily.Tiled) != tile.HasValue)
        {
            throw new InvalidDataException($"entry \"{key}\": a tile belongs to the tiled family, and only there");
        }

        if (!item.TryGetProperty("splits", out var splitsValue) || splitsValue.ValueKind != JsonValueKind.Number || !splitsValue.TryGetInt32(out int splits) || splits < 1 || splits > ushort.MaxValue)
        {
            throw new InvalidDataException($"entry \"{key}\" has no split count from 1 to {ushort.MaxValue}");
        }

        bool tensorCores = item.TryGetProperty("tensorCores", out var cores) && cores.ValueKind == JsonValueKind.True;
        // A number JSON allows but a double cannot hold (1e999) is refused like any other malformed entry.
        double microseconds = double.NaN;
        if (item.TryGetProperty("microseconds", out var time)
            && (time.ValueKind != JsonValueKind.Number || !time.TryGetDouble(out microseconds) || !double.IsFinite(microseconds) || microseconds < 0))
        {
            throw new InvalidDataException($"entry \"{key}\" has no time in microseconds");
        }

        string reason = string.Create(CultureInfo.InvariantCulture, $"measured earlier ({microseconds:F0} us), loaded from {Path.GetFileName(path)}");
        return new TuningEntry(key, new ProgramRoute(pass, family, tile, splits, tensorCores, RouteOrigin.Measurement, reason), microseconds);
    }

    private static string String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : string.Empty;

    private static string LibraryVersion() =>
        typeof(ConvolutionTuning).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(ConvolutionTuning).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>The host processor's model (Linux's /proc/cpuinfo), which the CPU accelerator's and PoCL's speed depend on.</summary>
    private static string HostProcessor()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                foreach (string line in File.ReadLines("/proc/cpuinfo"))
                {
                    if (line.StartsWith("model name", StringComparison.Ordinal) && line.IndexOf(':', StringComparison.Ordinal) is int colon and > 0)
                    {
                        return line[(colon + 1)..].Trim();
                    }
                }
            }
        }
        catch (IOException)
        {
        }

        return System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture.ToString();
    }
}

/// <summary>One measured route of a <see cref="ConvolutionTuning"/>: its key, the route, and its best time.</summary>
/// <param name="Key">The pass, the layer's sizes, data format, groups and precision.</param>
/// <param name="Route">The route kept.</param>
/// <param name="Microseconds">Its fastest timed run, in microseconds (NaN when not recorded).</param>
public sealed record TuningEntry(string Key, ProgramRoute Route, double Microseconds);
