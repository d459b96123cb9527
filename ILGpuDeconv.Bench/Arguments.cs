using System;
using System.Collections.Generic;
using ILGpuDeconv.Runtime;

namespace ILGpuDeconv.Bench;

/// <summary>The command line: a command word, then <c>--name value</c> options and <c>--flag</c> switches.</summary>
internal sealed class Arguments
{
    private readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);
    private readonly List<string> positional = [];

    public Arguments(string[] args)
    {
        Raw = args;
        int start = 0;
        if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
        {
            Command = args[0];
            start = 1;
        }

        for (int i = start; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                positional.Add(arg);
                continue;
            }

            string name = arg[2..];
            string? value = null;
            int eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            else if (i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                value = args[++i];
            }

            options[name] = value;
        }
    }

    public string Command { get; } = string.Empty;

    /// <summary>Gets the arguments after the command that are no option's value (e.g. <c>inspect FILE</c>).</summary>
    public IReadOnlyList<string> Positional => positional;

    /// <summary>Gets the arguments as given.</summary>
    public IReadOnlyList<string> Raw { get; }

    public bool Flag(string name) => options.ContainsKey(name);

    public string? Value(string name) => options.TryGetValue(name, out var value) ? value : null;

    public string Required(string name) =>
        Value(name) ?? throw new ArgumentException($"--{name} is required");

    public int Int(string name, int fallback) =>
        Value(name) is { } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>Creates the device named by <c>--accelerator</c>, or the environment's / auto choice.</summary>
    public DeconvDevice CreateDevice() =>
        Value("accelerator") is { } choice
            ? DeconvDevice.Create(DeconvDevice.ParsePreference(choice, "--accelerator"))
            : DeconvDevice.Create();
}
