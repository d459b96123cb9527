using System;
using System.Collections.Generic;
using System.Linq;
using System.Reflection;
using ILGPU;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Kernels;

/// <summary>
/// Every kernel compiles to PTX with ILGPU's CUDA backend, without a GPU: the one test that looks inside
/// the library's kernels, so that a construct CUDA cannot take shows up on machines that have no GPU.
/// Kernels are closed over the view accessor GPUs use and over every built-in activation.
/// </summary>
public sealed class PtxCompilationTests
{
    private static readonly Assembly Library = typeof(Conv2DTranspose).Assembly;

    public static IEnumerable<TestCaseData> KernelMethods()
    {
        var view = Library.GetType("ILGpuDeconv.Kernels.ViewMemory", throwOnError: true)!;
        var activations = Library.GetTypes()
            .Where(t => t.Namespace == "ILGpuDeconv.Activations" && t.IsValueType && t.Name.EndsWith("Function", StringComparison.Ordinal))
            .OrderBy(t => t.Name, StringComparer.Ordinal)
            .ToList();
        var kernelClasses = Library.GetTypes()
            .Where(t => t.Namespace == "ILGpuDeconv.Kernels" && t.IsGenericTypeDefinition && t.Name.Contains("Kernel", StringComparison.Ordinal))
            .OrderBy(t => t.Name, StringComparer.Ordinal);
        foreach (var definition in kernelClasses)
        {
            var closings = definition.GetGenericArguments().Length == 2
                ? activations.Select(a => new[] { a, view })
                : [[view]];
            foreach (var arguments in closings)
            {
                var closed = definition.MakeGenericType(arguments);
                foreach (var method in EntryPoints(closed))
                {
                    string name = $"{definition.Name.Split('`')[0]}.{method.Name}" + (arguments.Length == 2 ? $"<{arguments[0].Name}>" : string.Empty);
                    yield return new TestCaseData(method).SetName($"PTX sm_80: {name}");
                }
            }
        }
    }

    [TestCaseSource(nameof(KernelMethods))]
    public void Compiles_to_PTX(MethodInfo kernel)
    {
        using var context = Context.Create(builder => builder.Default().EnableAlgorithms());
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_80), CudaArchitecture.SM_80, CudaInstructionSet.ISA_80, null);
        var compiled = (PTXCompiledKernel)backend.Compile(EntryPointDescription.FromExplicitlyGroupedKernel(kernel), default(KernelSpecialization));
        Assert.That(compiled.PTXAssembly, Does.Contain(".target sm_80").And.Contain(".entry"));
    }

    [Test]
    public void Every_kernel_class_is_covered() =>
        Assert.That(KernelMethods().Count(), Is.GreaterThanOrEqualTo(11), "forward, activation gradient, input and weight gradients, finish, layouts, optimizers, constraints");

    /// <summary>The kernel entry points: static methods whose first parameter is the launch's work grid.</summary>
    private static IEnumerable<MethodInfo> EntryPoints(Type closed) =>
        closed.GetMethods(BindingFlags.NonPublic | BindingFlags.Static)
            .Where(m => m.GetParameters().FirstOrDefault()?.ParameterType.Name == "WorkGrid")
            .OrderBy(m => m.Name, StringComparer.Ordinal);
}
