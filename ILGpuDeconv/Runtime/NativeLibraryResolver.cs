using System;
using System.IO;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using System.Threading;
using ILGPU;

namespace ILGpuDeconv;

/// <summary>
/// Lets ILGPU find the CUDA and OpenCL drivers on Linux machines that have only the versioned files.
/// ILGPU imports them as <c>cuda</c> and <c>OpenCL</c>, which .NET probes as <c>libcuda.so</c> and
/// <c>libOpenCL.so</c>; drivers install <c>libcuda.so.1</c> and <c>libOpenCL.so.1</c>, the unversioned links
/// coming only with development packages. When the usual probe fails, this resolver loads the versioned
/// names. It uses the load context's fallback event, so it never displaces a resolver the application set.
/// </summary>
public static class NativeLibraryResolver
{
    private static int installed;

    /// <summary>
    /// Installs the resolver (once; later calls do nothing). <see cref="DeconvDevice"/> calls it before it
    /// creates an ILGPU context; call it yourself before creating your own context if you use ILGPU directly.
    /// </summary>
    public static void Install()
    {
        if (Interlocked.Exchange(ref installed, 1) == 1)
        {
            return;
        }

        var ilgpu = typeof(Context).Assembly;
        var loadContext = AssemblyLoadContext.GetLoadContext(ilgpu) ?? AssemblyLoadContext.Default;
        loadContext.ResolvingUnmanagedDll += Resolve;
    }

    /// <summary>The file names tried, in order, for a library ILGPU imports.</summary>
    /// <param name="importName">The name in ILGPU's import (<c>cuda</c> or <c>OpenCL</c>).</param>
    /// <returns>Candidate file names or paths; empty for other libraries.</returns>
    public static string[] Candidates(string importName) => importName switch
    {
        "cuda" => ["libcuda.so.1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1",
            "/usr/local/nvidia/lib64/libcuda.so.1", "/usr/lib/wsl/lib/libcuda.so.1", "/usr/lib/aarch64-linux-gnu/libcuda.so.1"],
        "OpenCL" => ["libOpenCL.so.1", "/usr/lib/x86_64-linux-gnu/libOpenCL.so.1", "/usr/lib64/libOpenCL.so.1",
            "/usr/lib/aarch64-linux-gnu/libOpenCL.so.1"],
        _ => [],
    };

    private static IntPtr Resolve(Assembly assembly, string libraryName)
    {
        if (!OperatingSystem.IsLinux() || assembly != typeof(Context).Assembly)
        {
            return IntPtr.Zero;
        }

        foreach (string candidate in Candidates(libraryName))
        {
            if (candidate.StartsWith('/') && !File.Exists(candidate))
            {
                continue;
            }

            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero;
    }
}
