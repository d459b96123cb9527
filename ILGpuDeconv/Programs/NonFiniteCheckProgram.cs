using ILGPU;

namespace ILGpuDeconv.Programs;

/// <summary>
/// Sets <c>flag[0]</c> to 1 when a value is infinite or NaN (every writer writes the same value; the caller
/// clears the flag first). The tiled programs are exact only for finite weights.
/// </summary>
/// <typeparam name="TMem">The memory accessor of the accelerator.</typeparam>
internal readonly struct NonFiniteCheckProgram<TMem>(long length, TMem values, TMem flag) : IGpuProgram
    where TMem : struct, ITensorMemory
{
    private readonly long length = length;
    private readonly TMem values = values;
    private readonly TMem flag = flag;

    public long Items => length;

    public void Execute(int item)
    {
        if ((Interop.FloatAsInt(values.Load(item)) & 0x7F800000) == 0x7F800000)
        {
            flag.Store(0, 1f);
        }
    }
}
