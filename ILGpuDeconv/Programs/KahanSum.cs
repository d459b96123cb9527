namespace ILGpuDeconv.Programs;

/// <summary>
/// A compensated (Kahan) float sum: long reductions (weight gradients over every pixel) stay within a
/// few ulps of the exact sum, as TensorFlow's double-precision accumulations are, instead of drifting by
/// the square root of their length. Infinities and NaN pass through as in a plain sum.
/// </summary>
internal struct KahanSum
{
    public float Sum;
    private float compensation;

    public void Add(float value)
    {
        float y = value - compensation;
        float t = Sum + y;

        // (t - Sum) - y recovers what the addition lost; once t is infinite or NaN there is nothing to
        // recover, and carrying inf - inf would turn an infinite sum into NaN.
        float lost = (t - Sum) - y;
        compensation = t - t == 0f ? lost : 0f;
        Sum = t;
    }
}
