using System;
using System.IO;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Tool.Commands;

/// <summary><c>inspect FILE</c>: the tensors a weight file holds (name, dtype, shape), and an ONNX model's ConvTranspose nodes; exit 2 on a malformed file (or one whose bytes are another format than its name says), 1 when it holds nothing.</summary>
internal static class InspectCommand
{
    public static int Run(Arguments args)
    {
        if (args.Positional.Count != 1)
        {
            throw new ArgumentException("inspect takes one file: inspect FILE");
        }

        string path = args.Positional[0];
        try
        {
            var tensors = WeightFiles.List(path);
            Console.WriteLine($"{path}: {tensors.Count} tensor(s)");
            foreach (var tensor in tensors)
            {
                Console.WriteLine($"  {tensor}");
            }

            int nodeCount = 0;
            if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
            {
                var nodes = OnnxFormat.ConvTransposeNodes(path);
                nodeCount = nodes.Count;
                Console.WriteLine($"{nodes.Count} ConvTranspose node(s):");
                foreach (var node in nodes)
                {
                    Console.WriteLine($"  {node}");
                }
            }

            if (tensors.Count == 0 && nodeCount == 0)
            {
                // Nothing to load from it: a failed check, not a success.
                Console.Error.WriteLine($"inspect: {path} holds no tensors.");
                return CommandLineExit.CheckFailed;
            }

            return 0;
        }
        catch (Exception ex) when (ex is InvalidDataException or FileNotFoundException or DirectoryNotFoundException)
        {
            Console.Error.WriteLine($"inspect: {ex.Message}");
            return 2;
        }
    }
}
