using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;
using ILGpuDeconv.Programs.Tiled;

namespace ILGpuDeconv;

/// <summary>
/// Every GPU program the layer can launch: each type implementing <see cref="IGpuProgram"/>, closed over the
/// memory accessor GPUs use, over each built-in activation (programs with an activation parameter) and
/// each norm rule (the norm constraint), as the entry point <see cref="GridStrideLoop.Run{TProgram}"/> that
/// <see cref="Launcher"/> compiles; and each type implementing <see cref="ITiledProgram"/> in each block
/// tile, as <see cref="TiledGemm"/>'s entry point with its launch bounds, and again on tensor cores (named
/// <c>@TC</c> and the tile, compiled at O2 as <see cref="TensorCoreCompiler"/> compiles them).
/// </summary>
internal static class GpuProgramCatalog
{
    /// <summary>
    /// One specialisation: a display name, the closed entry point, its launch bounds (none for grid-stride programs),
    /// and whether it is a tensor-core loop (compiled at O2).
    /// </summary>
    internal readonly record struct Entry(string Name, MethodInfo Method, KernelSpecialization Specialization = default, bool TensorCores = false);

    /// <summary>Lists every specialisation, ordered by name.</summary>
    public static IReadOnlyList<Entry> All()
    {
        var library = typeof(GpuProgramCatalog).Assembly;
        var entries = new List<Entry>();
        var run = typeof(GridStrideLoop).GetMethod(nameof(GridStrideLoop.Run))!;
        foreach (var program in ProgramTypes())
        {
            foreach (var arguments in Closings(program))
            {
                var closed = program.IsGenericTypeDefinition ? program.MakeGenericType(arguments) : program;
                string suffix = arguments.Length > 1 ? $"<{string.Join(",", arguments[..^1].Select(a => a.Name))}>" : string.Empty;
                entries.Add(new Entry($"{program.Name.Split('`')[0]}{suffix}", run.MakeGenericMethod(closed)));
            }
        }

        entries.AddRange(TiledEntries());
        return [.. entries.OrderBy(e => e.Name, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The tiled programs (<see cref="ITiledProgram"/>), each in every block tile, with the float32 and the tensor-core
    /// loop, and with each kind of operand load (<see cref="IRunLoads"/>); the forward program with contiguous runs in the
    /// largest tile for each activation, otherwise linear.
    /// </summary>
    private static IEnumerable<Entry> TiledEntries()
    {
        var tiled = typeof(ITiledProgram).Assembly.GetTypes()
            .Where(t => t.IsValueType && t.IsGenericTypeDefinition && typeof(ITiledProgram).IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal);
        foreach (var program in tiled)
        {
            bool activated = program.GetGenericArguments().Length == 2; // <TAct, TRuns>, else <TRuns>
            foreach (var runs in ImplementationsOf(typeof(IRunLoads)))
            {
                foreach (var shape in TiledGemm.Shapes.ToArray())
                {
                    var activations = new List<Type?> { activated ? typeof(LinearFunction) : null };
                    if (activated && shape == TiledGemm.Shapes[0] && runs == typeof(ContiguousRuns))
                    {
                        activations = [.. ImplementationsOf(typeof(IActivationFunction))];
                    }

                    // Each also on tensor cores (compiled at O2, whose code for the activations is checked here too).
                    foreach (var activation in activations)
                    {
                        foreach (bool tensorCores in (bool[])[false, true])
                        {
                            Type[] arguments = activation is null ? [runs] : [activation, runs];
                            string tile = $"{TiledGemm.Rows(shape)}x{TiledGemm.Columns(shape)}";
                            yield return new Entry(
                                $"{program.Name.Split('`')[0]}<{string.Join(",", arguments.Select(a => a.Name))}>@{(tensorCores ? "TC" : string.Empty)}{tile}",
                                EntryPointOf(program.MakeGenericType(arguments), shape, tensorCores),
                                TiledGemm.Specialization,
                                tensorCores);
                        }
                    }
                }
            }
        }
    }

    /// <summary>The closed method of a tiled program's entry point, from the generated switch the launcher uses too.</summary>
    private static MethodInfo EntryPointOf(Type program, TileShape shape, bool tensorCores)
    {
        string name = tensorCores ? nameof(TiledGemm.TensorCoreEntryPoint) : nameof(TiledGemm.EntryPoint);
        var select = typeof(TiledGemm).GetMethod(name, BindingFlags.Public | BindingFlags.Static)!.MakeGenericMethod(program);
        return ((Delegate)select.Invoke(null, [shape])!).Method;
    }

    /// <summary>The program types of the library: every struct implementing <see cref="IGpuProgram"/> (grid-stride programs).</summary>
    public static IReadOnlyList<Type> ProgramTypes() =>
        [.. typeof(IGpuProgram).Assembly.GetTypes()
            .Where(t => t.IsValueType && typeof(IGpuProgram).IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal)];

    private static List<Type> ImplementationsOf(Type contract) =>
        [.. contract.Assembly.GetTypes()
            .Where(t => t.IsValueType && !t.IsGenericType && contract.IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal)];

    /// <summary>
    /// The closings of a program's type parameters: the memory accessor last (<see cref="ViewMemory"/>, as on a
    /// GPU), and before it an activation function or a norm rule, each built-in one in turn.
    /// </summary>
    private static IEnumerable<Type[]> Closings(Type program)
    {
        if (!program.IsGenericTypeDefinition)
        {
            return [[]];
        }

        var parameters = program.GetGenericArguments();
        if (parameters.Length == 1)
        {
            return [[typeof(ViewMemory)]];
        }

        if (parameters.Length != 2)
        {
            throw new InvalidOperationException($"{program.Name}: a GPU program with an unexpected number of type parameters.");
        }

        var contract = parameters[0].GetGenericParameterConstraints().Single(c => c.IsInterface);
        return ImplementationsOf(contract).Select(a => new[] { a, typeof(ViewMemory) });
    }
}
