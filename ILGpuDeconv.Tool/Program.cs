using System;
using System.IO;
using System.Linq;
using System.Reflection;
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
          help, --help   this text
          --version      the tool's version, and the library's and ILGPU's

        The accelerator defaults to auto (CUDA, else OpenCL, else CPU) or the ILGPUDECONV_ACCELERATOR variable.
        Exit status: 0 success, 1 a check failed, 2 bad arguments or a malformed file, 3 the accelerator asked for is not here.
        """;

    private static int Main(string[] args)
    {
        // As dotnet's own tools: help anywhere on the line is usage on stdout with exit 0; --version the version.
        if (args.Any(a => a is "--help" or "-h" or "-?") || args is ["help", ..])
        {
            return PrintUsage(0);
        }

        if (args is ["--version"])
        {
            Console.WriteLine(VersionText());
            return 0;
        }

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
                "" => PrintUsage(2),
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

    /// <summary>The versions: the tool's (its package), the library's and ILGPU's, e.g. <c>ilgpudeconv 0.1.0 (ILGpuDeconv 0.1.0, ILGPU 1.5.3)</c>.</summary>
    internal static string VersionText()
    {
        static string Of(Assembly assembly) =>
            (assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? assembly.GetName().Version?.ToString() ?? "unknown").Split('+')[0];
        return $"ilgpudeconv {Of(typeof(Program).Assembly)} (ILGpuDeconv {Of(typeof(Conv2DTranspose).Assembly)}, ILGPU {Of(typeof(ILGPU.Context).Assembly)})";
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
