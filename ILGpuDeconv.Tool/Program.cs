using System;
using System.IO;
using ILGpuDeconv.Conformance.CommandLine;
using ILGpuDeconv.Tool.Commands;

namespace ILGpuDeconv.Tool;

/// <summary>The <c>ilgpudeconv</c> tool: info, inspect, verify, ptx.</summary>
internal static class Program
{
    private const string Usage = """
        ilgpudeconv COMMAND [options]

          info           every accelerator ILGPU finds and which one 'auto' picks
          inspect FILE   the tensors a weight file holds (.npz .npy .safetensors .pt .pth .h5 .keras .onnx, TF.js model.json)
          verify --cases FILE [--accelerator auto|cpu|opencl|cuda] [--algorithm auto|direct|tiled|tuned] [--tuning-file FILE] [--forward-only] [--details]
                 [--weights FILE [--layout keras|pytorch]]
                         run a conformance case file (docs/CONFORMANCE-FORMAT.md) through the layer; exit 0 only when every case passes
          ptx --out DIR [--arch 80] [--isa 7.8]
                         the PTX of every GPU program specialisation (no GPU needed), for tools/gpu/ptx-report.sh
          help           this text

        The accelerator defaults to auto (CUDA, else OpenCL, else CPU) or the ILGPUDECONV_ACCELERATOR variable.
        Exit status: 0 success, 1 a check failed, 2 bad arguments or a malformed file, 3 the accelerator asked for is not here.
        """;

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
                "info" => InfoCommand.Run(),
                "inspect" => InspectCommand.Run(arguments),
                "verify" => VerifyCommand.Run(arguments),
                "ptx" => PtxCommand.Run(arguments),
                "" or "help" or "--help" or "-h" => PrintUsage(arguments.Command.Length == 0 ? 2 : 0),
                _ => Fail($"unknown command '{arguments.Command}'"),
            };
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or InvalidDataException)
        {
            // Bad arguments, or a malformed input file (a conformance case file, a weight file): say which and where.
            Console.Error.WriteLine($"error: {ex.Message}");
            return 2;
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
        (code == 0 ? Console.Out : Console.Error).WriteLine(Usage);
        return code;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        Console.Error.WriteLine(Usage);
        return 2;
    }
}
