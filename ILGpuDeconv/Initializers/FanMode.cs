namespace ILGpuDeconv;

/// <summary>Keras <c>VarianceScaling</c>'s <c>mode</c>: which fan divides the scale.</summary>
public enum FanMode
{
    /// <summary><c>fan_in</c>.</summary>
    FanIn,

    /// <summary><c>fan_out</c>.</summary>
    FanOut,

    /// <summary><c>fan_avg</c>: the mean of fan-in and fan-out.</summary>
    FanAverage,
}

/// <summary>Keras <c>VarianceScaling</c>'s <c>distribution</c>.</summary>
public enum VarianceScalingDistribution
{
    /// <summary><c>truncated_normal</c>: normal cut at two standard deviations, its stddev corrected by 0.87962566103423978.</summary>
    TruncatedNormal,

    /// <summary><c>untruncated_normal</c>.</summary>
    UntruncatedNormal,

    /// <summary><c>uniform</c>: uniform in <c>[-limit, limit]</c>, <c>limit = sqrt(3 * scale / n)</c>.</summary>
    Uniform,
}
