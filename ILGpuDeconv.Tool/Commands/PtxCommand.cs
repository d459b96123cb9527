using System.Globalization;
using System.IO;
using System.Linq;
using System;
using ILGPU.Runtime.Cuda;
using ILGpuDeconv.Conformance.CommandLine;

namespace ILGpuDeconv.Tool.Commands;

/// <summary>
/// <c>ptx --out DIR [--arch 80] [--isa 7.8]</c>: writes the PTX of every GPU program specialisation the layer
/// uses, one file each, without a GPU. <c>tools/gpu/ptx-report.sh --ptx DIR</c> then assembles them with NVIDIA's
/// offline <c>ptxas</c> for registers, spills, shared memory and SASS counts. The default ISA, 7.8, is the
/// newest that CUDA 11.8's <c>ptxas</c> reads.
/// </summary>
internal static class PtxCommand
{
    public static int Run(Arguments args)
    {
        string outDir = args.Required("out");
        var architecture = ParseArchitecture(args.Value("arch") ?? "80");
        var instructionSet = ParseInstructionSet(args.Value("isa") ?? "7.8");
        Directory.CreateDirectory(outDir);
        var programs = PtxInspection.CompileAll(architecture, instructionSet);
        foreach (var program in programs)
        {
            string file = Path.Combine(outDir, FileName(program.Name));
            File.WriteAllText(file, program.Ptx);
            var approximate = program.ApproximateInstructions;
            Console.WriteLine(string.Create(
                CultureInfo.InvariantCulture,
                $"{program.Name,-60} {program.Ptx.Length,8} chars  {(approximate.Count == 0 ? "no approximate instructions" : "approximate: " + string.Join(' ', approximate))}"));
        }

        Console.WriteLine($"{programs.Count} programs, {architecture} / PTX ISA {instructionSet}, written to {Path.GetFullPath(outDir)}");
        return 0;
    }

    /// <summary><c>ForwardProgram&lt;TanhFunction&gt;</c> becomes <c>ForwardProgram.TanhFunction.ptx</c>, <c>A&lt;B,C&gt;</c> <c>A.B.C.ptx</c>.</summary>
    public static string FileName(string programName) => programName.Replace('<', '.').Replace(',', '.').Replace(">", string.Empty, StringComparison.Ordinal) + ".ptx";

    private static CudaArchitecture ParseArchitecture(string text)
    {
        string digits = text.StartsWith("sm_", StringComparison.OrdinalIgnoreCase) ? text[3..] : text;
        if (digits.Length != 2 || !digits.All(char.IsAsciiDigit))
        {
            throw new ArgumentException($"--arch must be two digits such as 80 or sm_90; got \"{text}\"");
        }

        return new CudaArchitecture(digits[0] - '0', digits[1] - '0');
    }

    private static CudaInstructionSet ParseInstructionSet(string text)
    {
        var parts = text.Split('.');
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out int major) || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out int minor))
        {
            throw new ArgumentException($"--isa must be MAJOR.MINOR such as 7.8; got \"{text}\"");
        }

        return new CudaInstructionSet(major, minor);
    }
}
