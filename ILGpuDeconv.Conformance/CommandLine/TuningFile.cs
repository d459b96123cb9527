using System;
using System.IO;

namespace ILGpuDeconv.Conformance.CommandLine;

/// <summary>
/// <c>--tuning-file FILE</c> of both command lines: the measured routes of <see cref="ConvolutionAlgorithm.Tuned"/>
/// loaded from the file before a run (a corrupt or foreign file is reported and ignored) and saved to it after.
/// </summary>
public static class TuningFile
{
    /// <summary>Loads <paramref name="path"/> into <paramref name="device"/>'s table, if the file exists, and says what happened.</summary>
    /// <param name="device">The device, which must run <see cref="ConvolutionAlgorithm.Tuned"/>.</param>
    /// <param name="path">The file, or null for none.</param>
    /// <param name="log">Where to report.</param>
    /// <exception cref="ArgumentException">A file is named but the device does not measure its routes.</exception>
    public static void Load(DeconvDevice device, string? path, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(log);
        if (path is null)
        {
            return;
        }

        if (device.Algorithm != ConvolutionAlgorithm.Tuned)
        {
            throw new ArgumentException("--tuning-file needs the tuned algorithm");
        }

        if (!File.Exists(path))
        {
            log.WriteLine($"tuning file {path}: none yet; the routes are measured and saved there");
            return;
        }

        log.WriteLine(device.Tuning.Load(path)
            ? $"tuning file {path}: {device.Tuning.Entries.Count} measured route(s) loaded"
            : $"warning: {device.Tuning.Warning}; the routes are measured again and the file rewritten");
    }

    /// <summary>Saves <paramref name="device"/>'s table to <paramref name="path"/> (nothing when it is null).</summary>
    /// <param name="device">The device.</param>
    /// <param name="path">The file, or null for none.</param>
    /// <param name="log">Where to report.</param>
    public static void Save(DeconvDevice device, string? path, TextWriter log)
    {
        ArgumentNullException.ThrowIfNull(device);
        ArgumentNullException.ThrowIfNull(log);
        if (path is null)
        {
            return;
        }

        device.Tuning.Save(path);
        log.WriteLine($"tuning file {path}: {device.Tuning.Entries.Count} measured route(s) saved");
    }
}
