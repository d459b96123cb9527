using System;
using System.Collections.Generic;

namespace ILGpuDeconv.Conformance.CommandLine;

/// <summary>The command line: a command word, then <c>--name value</c> options and <c>--flag</c> switches.</summary>
public sealed class Arguments
{
    private readonly Dictionary<string, string?> options = new(StringComparer.Ordinal);
    private readonly List<string> positional = [];

    /// <summary>Initializes a new instance of the <see cref="Arguments"/> class from a program's arguments.</summary>
    /// <param name="args">The arguments: an optional command word, then options.</param>
    public Arguments(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
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

    /// <summary>Gets the command word, or empty when the arguments start with an option.</summary>
    public string Command { get; } = string.Empty;

    /// <summary>Gets the arguments after the command that are no option's value (e.g. <c>inspect FILE</c>).</summary>
    public IReadOnlyList<string> Positional => positional;

    /// <summary>Gets the arguments as given.</summary>
    public IReadOnlyList<string> Raw { get; }

    /// <summary>Gets whether <c>--name</c> was given.</summary>
    /// <param name="name">The option's name without dashes.</param>
    /// <returns>True when given.</returns>
    public bool Flag(string name) => options.ContainsKey(name);

    /// <summary>Gets the value of <c>--name VALUE</c> (or <c>--name=VALUE</c>), or null.</summary>
    /// <param name="name">The option's name without dashes.</param>
    /// <returns>The value, or null.</returns>
    public string? Value(string name) => options.TryGetValue(name, out var value) ? value : null;

    /// <summary>Gets the value of an option that must be given.</summary>
    /// <param name="name">The option's name without dashes.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">The option is missing.</exception>
    public string Required(string name) =>
        Value(name) ?? throw new ArgumentException($"--{name} is required");

    /// <summary>Gets an integer option, or <paramref name="fallback"/> when it is not given.</summary>
    /// <param name="name">The option's name without dashes.</param>
    /// <param name="fallback">The default.</param>
    /// <returns>The value.</returns>
    public int Number(string name, int fallback) =>
        Value(name) is { } text ? int.Parse(text, System.Globalization.CultureInfo.InvariantCulture) : fallback;

    /// <summary>Creates the device named by <c>--accelerator</c>, or the environment's / auto choice.</summary>
    /// <returns>The device; the caller disposes it.</returns>
    public DeconvDevice CreateDevice() =>
        Value("accelerator") is { } choice
            ? DeconvDevice.Create(DeconvDevice.ParseKind(choice, "--accelerator"))
            : DeconvDevice.Create();
}
