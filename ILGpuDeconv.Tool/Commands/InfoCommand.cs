using System;

namespace ILGpuDeconv.Tool.Commands;

/// <summary><c>info</c>: every accelerator ILGPU finds and the automatic choice.</summary>
internal static class InfoCommand
{
    public static int Run()
    {
        Console.WriteLine($"ILGPU {typeof(ILGPU.Context).Assembly.GetName().Version}, .NET {Environment.Version}, {Environment.ProcessorCount} cores");
        var accelerators = DeconvDevice.ListAccelerators();
        Console.WriteLine($"{accelerators.Count} accelerator(s), in the order auto considers them:");
        foreach (var info in accelerators)
        {
            Console.WriteLine($"  {info}");
        }

        using var device = DeconvDevice.Create(null);
        Console.WriteLine($"auto picks: {device.Info.Kind}: {device.Info.Name} ({device.SelectionReason})");
        string? fromEnvironment = Environment.GetEnvironmentVariable(DeconvDevice.EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            using var chosen = DeconvDevice.Create();
            Console.WriteLine($"{DeconvDevice.EnvironmentVariable}={fromEnvironment} picks: {chosen.Info.Kind}: {chosen.Info.Name}");
        }

        return 0;
    }
}
