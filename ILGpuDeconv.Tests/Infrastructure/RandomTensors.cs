using System;

namespace ILGpuDeconv.Tests.Infrastructure;

/// <summary>Seeded random data for tests.</summary>
public static class RandomTensors
{
    public static float[] Uniform(Random random, long length, float scale = 1f)
    {
        var values = new float[length];
        for (int i = 0; i < values.Length; i++)
        {
            values[i] = (float)(((random.NextDouble() * 2) - 1) * scale);
        }

        return values;
    }
}
