using System;
using System.IO;
using System.Linq;
using ILGpuDeconv.Bench.Commands;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Bench;

/// <summary>The benchmark harness: demo (default), quick, bench, plot, soak. The tools for users' own files are the <c>ilgpudeconv</c> tool (ILGpuDeconv.Tool).</summary>
internal static class Program
{
    private const string Usage = """
        ILGpuDeconv.Bench [command] [options]

          (no command)   demo: a DCGAN-like generator layer on the chosen accelerator, checked against a plain loop
          quick [--accelerator cpu,opencl,cuda] [--shapes A,B,C,D,G1,...] [--passes forward,input_grad,kernel_grad]
                [--peers naive,onnxruntime,cudnn] [--algorithms auto,direct,tiled,tuned] [--tuning-file FILE] [--precisions fp32,tf32] [--min-time SECONDS] [--warm-up SECONDS] [--json PATH] [--markdown PATH]
                         every implementation side by side (stopwatch, minimum of runs) with ratios
          bench [--shapes A,B,C,D] [--passes ...] [--accelerator cpu,opencl,cuda] [--peers naive,onnxruntime] [--job short|default]
                         the BenchmarkDotNet suite, in-process, with a GFLOP/s column and allocations
          plot --json FILE [--out PNG]
                         a throughput chart from a quick --json file
          soak [--iterations N] [--accelerator ...]
                         forward and backward N times (default 1000): memory at start and end, results bitwise identical
          help, --help   this text

        info, inspect, verify and ptx are commands of the ilgpudeconv tool (ILGpuDeconv.Tool).
        The accelerator defaults to auto (CUDA, else OpenCL, else CPU) or the ILGPUDECONV_ACCELERATOR variable.
        Exit status: 0 success, 1 a check failed, 2 bad arguments or a malformed file, 3 the accelerator asked for is not here.
        """;

    private static int Main(string[] args)
    {
        // Help anywhere on the line is usage on stdout with exit 0 (as dotnet's own tools), never the demo.
        if (args.Any(a => a is "--help" or "-h" or "-?"))
        {
            return PrintUsage(0);
        }

        try
        {
            var arguments = new Arguments(args);
            if (arguments.Positional.Count > 0)
            {
                return Fail($"unexpected argument '{arguments.Positional[0]}'");
            }

            return arguments.Command switch
            {
                "" or "demo" => DemoCommand.Run(arguments),
                "soak" => SoakCommand.Run(arguments),
                "quick" => QuickCommand.Run(arguments),
                "bench" => BenchCommand.Run(arguments),
                "info" or "inspect" or "verify" or "ptx" => Fail($"'{arguments.Command}' is a command of the ilgpudeconv tool: dotnet run --project ILGpuDeconv.Tool -- {arguments.Command} ..."),
#if CPU_PEERS
                "plot" => PlotCommand.Run(arguments),
#endif
                "help" => PrintUsage(0),
                _ => Fail($"unknown command '{arguments.Command}'"),
            };
        }
        catch (ArgumentException ex)
        {
            return Fail(ex.Message);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidDataException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return CommandLineExit.BadInput;
        }
        catch (AcceleratorNotFoundException ex)
        {
            // Its own exit status, so scripts tell a missing accelerator from a failed check.
            Console.Error.WriteLine($"missing accelerator: {ex.Message}");
            return CommandLineExit.MissingAccelerator;
        }
    }

    private static int PrintUsage(int code)
    {
        Console.WriteLine(Usage);
        return code;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
