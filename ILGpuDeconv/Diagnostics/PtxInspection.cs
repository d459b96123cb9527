using System;
using System.Collections.Generic;
using System.Linq;
using System.Text.RegularExpressions;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using ILGpuDeconv.Programs.Tiled;

namespace ILGpuDeconv;

/// <summary>
/// The PTX that ILGPU's CUDA backend makes of the layer's GPU programs, without a GPU: for judging programs
/// offline (NVIDIA's <c>ptxas</c> turns it into registers, spills and SASS) and for checking which
/// instructions they use. The context is configured as <see cref="DeconvDevice"/> configures its own (O1), the
/// tensor-core loops as <see cref="TensorCoreCompiler"/> compiles them (O2).
/// </summary>
public static class PtxInspection
{
    /// <summary>
    /// Compiles every GPU program the layer can launch, for each built-in activation, to PTX.
    /// </summary>
    /// <param name="architecture">The target, e.g. <see cref="CudaArchitecture.SM_80"/> (the <c>.target</c> line).</param>
    /// <param name="instructionSet">
    /// The PTX ISA version (the <c>.version</c> line), e.g. <see cref="CudaInstructionSet.ISA_78"/>, the newest
    /// that CUDA 11.8's offline <c>ptxas</c> reads.
    /// </param>
    /// <returns>One entry per program and activation, ordered by name.</returns>
    public static IReadOnlyList<GpuProgramPtx> CompileAll(CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        using var compiler = new Compiler(architecture, instructionSet);
        return [.. GpuProgramCatalog.All().Select(entry => new GpuProgramPtx(entry.Name, compiler.Compile(entry)))];
    }

    /// <summary>Gets the names <see cref="CompileAll"/> gives its programs, without compiling them.</summary>
    /// <returns>The names, ordered.</returns>
    public static IReadOnlyList<string> ProgramNames() => [.. GpuProgramCatalog.All().Select(e => e.Name)];

    /// <summary>Compiles one program by its name in <see cref="ProgramNames"/>.</summary>
    /// <param name="name">The program's name.</param>
    /// <param name="architecture">The target architecture.</param>
    /// <param name="instructionSet">The PTX ISA version.</param>
    /// <returns>The program's PTX.</returns>
    /// <exception cref="ArgumentException">No program has that name.</exception>
    public static GpuProgramPtx Compile(string name, CudaArchitecture architecture, CudaInstructionSet instructionSet)
    {
        var entry = GpuProgramCatalog.All().FirstOrDefault(e => e.Name == name);
        if (entry.Method is null)
        {
            throw new ArgumentException($"no GPU program is named \"{name}\"; see PtxInspection.ProgramNames().", nameof(name));
        }

        using var compiler = new Compiler(architecture, instructionSet);
        return new GpuProgramPtx(entry.Name, compiler.Compile(entry));
    }

    private sealed class Compiler(CudaArchitecture architecture, CudaInstructionSet instructionSet) : IDisposable
    {
        private readonly Context context = Context.Create(builder => DeconvDevice.ConfigureContext(builder));
        private readonly Lazy<TensorCoreCompiler> tensorCores = new(() => new TensorCoreCompiler(architecture, instructionSet));
        private PTXBackend? backend;

        public string Compile(GpuProgramCatalog.Entry entry)
        {
            if (entry.TensorCores)
            {
                return tensorCores.Value.Compile(entry.Method, entry.Specialization).PTXAssembly;
            }

            backend ??= new PTXBackend(context, new CudaCapabilityContext(architecture), architecture, instructionSet, null);
            return ((PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(entry.Method), entry.Specialization)).PTXAssembly;
        }

        public void Dispose()
        {
            backend?.Dispose();
            if (tensorCores.IsValueCreated)
            {
                tensorCores.Value.Dispose();
            }

            context.Dispose();
        }
    }
}

/// <summary>The PTX of one GPU program specialisation.</summary>
/// <param name="Name">The program and, for programs specialised per activation, the activation's function struct, e.g. <c>ForwardProgram&lt;TanhFunction&gt;</c>.</param>
/// <param name="Ptx">The PTX text, as ILGPU's CUDA backend writes it.</param>
public sealed partial record GpuProgramPtx(string Name, string Ptx)
{
    /// <summary>
    /// Gets the approximate floating-point instructions the program uses (<c>tanh.approx.f32</c>,
    /// <c>ex2.approx</c>, <c>lg2.approx</c>, <c>sin</c>/<c>cos</c>, <c>rsqrt</c>, <c>rcp</c>, <c>sqrt</c> and
    /// <c>div.approx</c>, with or without <c>.ftz</c>), distinct and ordered; empty when every operation is
    /// IEEE-rounded or built from such operations.
    /// </summary>
    public IReadOnlyList<string> ApproximateInstructions =>
        [.. ApproximatePattern().Matches(Ptx).Select(m => m.Value).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];

    [GeneratedRegex(@"\b(?:tanh|ex2|lg2|sin|cos|rsqrt|rcp|sqrt|div)\.approx(?:\.ftz)?\.f(?:16|32|64)\b")]
    private static partial Regex ApproximatePattern();
}
