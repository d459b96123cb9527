using ILGPU;

namespace ILGpuDeconv.Programs;

/// <summary>
/// Writes each value rounded to TensorFloat-32 (<see cref="DeviceMath.RoundToTensorFloat32"/>): the
/// operands of a convolution in <see cref="ConvolutionPrecision.TensorFloat32"/>, after which the float32
/// programs form exact products of them. In place when source and target are the same tensor.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct TensorFloat32RoundProgram<TMem>(long length, TMem source, TMem target) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly long length = length;
    private readonly TMem source = source;
    private readonly TMem target = target;

    public long Items => length;

    public void Execute(int item) => target.Store(item, DeviceMath.RoundToTensorFloat32(source.Load(item)));
}
