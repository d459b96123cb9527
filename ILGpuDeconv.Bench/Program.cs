using System;
using ILGpuDeconv.Bench.Commands;

namespace ILGpuDeconv.Bench;

/// <summary>The ILGpuDeconv command line: demo (default), info, verify, quick, bench, soak, ptx.</summary>
internal static class Program
{
    private const string Usage = """
        ILGpuDeconv.Bench [command] [options]

          (no command)   demo: a DCGAN-like generator layer on the chosen accelerator, checked against a plain loop
          info           every accelerator ILGPU finds and which one 'auto' picks
          verify --cases FILE [--accelerator auto|cpu|opencl|cuda] [--forward-only] [--details] [--weights FILE [--layout keras|pytorch]]
                         run a conformance file through the layer; exit 0 only when every case passes
          quick [--accelerator cpu,opencl,cuda] [--shapes A,B,C,D,G1,...] [--passes forward,input_grad,kernel_grad]
                [--peers naive,onnxruntime,cudnn] [--algorithms auto,direct,tiled] [--precisions fp32,tf32] [--min-time SECONDS] [--json PATH] [--markdown PATH]
                         every implementation side by side (stopwatch, minimum of runs) with ratios
          bench [--shapes A,B,C,D] [--passes ...] [--accelerator cpu,opencl,cuda] [--peers naive,onnxruntime] [--job short|default]
                         the BenchmarkDotNet suite, in-process, with a GFLOP/s column and allocations
          plot --json FILE [--out PNG]
                         a throughput chart from a quick --json file
          soak [--iterations N] [--accelerator ...]
                         forward and backward N times (default 1000): memory at start and end, results bitwise identical
          inspect FILE           the tensors a weight file holds (.npz .npy .safetensors .pt .pth .h5 .keras, TF.js model.json)
          ptx --out DIR [--arch 80] [--isa 7.8]
                         the PTX of every GPU program specialisation (no GPU needed), for tools/gpu/ptx-report.sh
          help           this text

        The accelerator defaults to auto (CUDA, else OpenCL, else CPU) or the ILGPUDECONV_ACCELERATOR variable.
        Exit status: 0 success, 1 a check failed, 2 bad arguments or a malformed file, 3 the accelerator asked for is not here.
        """;

    /// <summary>The exit status when the accelerator asked for is not on this machine.</summary>
    private const int MissingAccelerator = 3;

    private static int Main(string[] args)
    {
        try
        {
            var arguments = new Arguments(args);
            if (arguments.Command != "inspect" && arguments.Positional.Count > 0)
            {
                return Fail($"unexpected argument '{arguments.Positional[0]}'");
            }

            return arguments.Command switch
            {
                "" or "demo" => DemoCommand.Run(arguments),
                "info" => InfoCommand.Run(),
                "verify" => VerifyCommand.Run(arguments),
                "soak" => SoakCommand.Run(arguments),
                "quick" => QuickCommand.Run(arguments),
                "bench" => BenchCommand.Run(arguments),
                "ptx" => PtxCommand.Run(arguments),
                "inspect" => InspectCommand.Run(arguments),
#if CPU_PEERS
                "plot" => PlotCommand.Run(arguments),
#endif
                "help" or "--help" or "-h" => PrintUsage(0),
                _ => Fail($"unknown command '{arguments.Command}'"),
            };
        }
        catch (ArgumentException ex)
        {
            return Fail(ex.Message);
        }
        catch (NotSupportedException ex)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }
        catch (System.IO.InvalidDataException ex)
        {
            // A malformed input file (a conformance case file, a weight file): say which and where.
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
        }
        catch (ILGpuDeconv.Runtime.AcceleratorNotFoundException ex)
        {
            // Its own exit status, so scripts tell a missing accelerator from a failed check.
            Console.Error.WriteLine($"missing accelerator: {ex.Message}");
            return MissingAccelerator;
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
