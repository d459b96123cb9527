using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using ILGpuDeconv.Activations;
using ILGpuDeconv.Kernels;

namespace ILGpuDeconv.Diagnostics;

/// <summary>
/// Every GPU program (ILGPU kernel entry point) the layer can launch, closed over the memory accessor GPUs
/// use and over each built-in activation. Entry points are found by their signature (a static method whose
/// first parameter is the launch's <see cref="WorkGrid"/>) anywhere in the library, so a program cannot
/// escape inspection by its name or its folder.
/// </summary>
internal static class GpuProgramCatalog
{
    /// <summary>One specialisation: a display name and the closed entry point.</summary>
    internal readonly record struct Entry(string Name, MethodInfo Method);

    /// <summary>Lists every specialisation, ordered by name.</summary>
    public static IReadOnlyList<Entry> All()
    {
        var library = typeof(GpuProgramCatalog).Assembly;
        var activations = BuiltInActivationTypes();
        var entries = new List<Entry>();
        foreach (var type in library.GetTypes().Where(t => t.IsClass && !t.IsNested))
        {
            if (!type.GetMethods(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static).Any(IsEntryPoint))
            {
                continue;
            }

            foreach (var arguments in Closings(type, activations))
            {
                var closed = type.IsGenericTypeDefinition ? type.MakeGenericType(arguments) : type;
                string suffix = arguments.Length == 2 ? $"<{arguments[0].Name}>" : string.Empty;
                foreach (var method in closed.GetMethods(BindingFlags.NonPublic | BindingFlags.Public | BindingFlags.Static).Where(IsEntryPoint))
                {
                    entries.Add(new Entry($"{type.Name.Split('`')[0]}.{method.Name}{suffix}", method));
                }
            }
        }

        return [.. entries.OrderBy(e => e.Name, StringComparer.Ordinal)];
    }

    /// <summary>The function structs of the built-in activations, as <see cref="Activation.FromName"/> knows them.</summary>
    public static IReadOnlyList<Type> BuiltInActivationTypes() =>
        [.. typeof(IActivationFunction).Assembly.GetTypes()
            .Where(t => t.IsValueType && !t.IsGenericType && typeof(IActivationFunction).IsAssignableFrom(t))
            .OrderBy(t => t.Name, StringComparer.Ordinal)];

    private static bool IsEntryPoint(MethodInfo method) => method.GetParameters().FirstOrDefault()?.ParameterType == typeof(WorkGrid);

    /// <summary>Kernel classes are generic over the memory accessor, and some also over the activation.</summary>
    private static IEnumerable<Type[]> Closings(Type type, IReadOnlyList<Type> activations)
    {
        if (!type.IsGenericTypeDefinition)
        {
            return [[]];
        }

        return type.GetGenericArguments().Length switch
        {
            1 => [[typeof(ViewMemory)]],
            2 => activations.Select(a => new[] { a, typeof(ViewMemory) }),
            _ => throw new InvalidOperationException($"{type.Name}: a GPU program class with an unexpected number of type parameters."),
        };
    }
}
