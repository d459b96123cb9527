using System.Runtime.CompilerServices;

namespace ILGpuDeconv.Programs;

/// <summary>Integer helpers the programs share (device and host).</summary>
internal static class IndexMath
{
    /// <summary>Ceiling of a / b for b &gt; 0 and any sign of a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

    /// <summary>Floor of a / b for b &gt; 0 and any sign of a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FloorDiv(int a, int b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    /// <summary>Whether 0 &lt;= i &lt; length, in one unsigned compare.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Within(int i, int length) => (uint)i < (uint)length;

    /// <summary>The first of <c>0, 1, ...</c> congruent to <c>residue - shift</c> modulo <paramref name="stride"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FirstOfPhase(int residue, int shift, int stride) => (residue - (shift % stride) + stride) % stride;

    /// <summary>How many of <c>first, first + stride, ...</c> are below <paramref name="length"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int CountFrom(int first, int length, int stride) => first < length ? (length - first + stride - 1) / stride : 0;
}
