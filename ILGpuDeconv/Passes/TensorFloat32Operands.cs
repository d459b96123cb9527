using ILGPU;
using ILGPU.Runtime;
using ILGpuDeconv.Programs;

namespace ILGpuDeconv.Passes;

/// <summary>
/// How the passes give a convolution TensorFloat-32 operands (<see cref="ConvolutionPrecision.TensorFloat32"/>):
/// each operand tensor is rounded once, into scratch space or in place (the weight layouts), and the
/// float32 programs then run unchanged; their products of TF32 values are exact in float32, and their sums
/// are float32, which is what the tensor cores compute.
/// </summary>
internal static class TensorFloat32Operands
{
    /// <summary>Launches the rounding of <paramref name="source"/> into <paramref name="target"/> (of its length); returns the target.</summary>
    public static ArrayView<float> Round<TMem>(Launcher launcher, AcceleratorStream stream, ArrayView<float> source, ArrayView<float> target)
        where TMem : struct, ITensorMemory, ITensorMemoryBinder<TMem>
    {
        launcher.Launch(stream, new TensorFloat32RoundProgram<TMem>(source.Length, TMem.Bind(source), TMem.Bind(target)));
        return target;
    }
}
