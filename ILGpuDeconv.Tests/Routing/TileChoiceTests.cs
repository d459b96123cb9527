using ILGpuDeconv.Routing;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Routing;

/// <summary>The tile rule: the largest tile that still gives every multiprocessor work.</summary>
public sealed class TileChoiceTests
{
    [Test]
    public void Tiles_follow_the_GEMM_size()
    {
        Assert.Multiple(() =>
        {
            Assert.That(TileChoice.For(1 << 20, 256, 4, 132), Is.EqualTo(TileShape.Tile128x128));
            Assert.That(TileChoice.For(1 << 20, 64, 4, 132), Is.EqualTo(TileShape.Tile128x64));
            Assert.That(TileChoice.For(1000, 256, 1, 132), Is.EqualTo(TileShape.Tile64x128), "8 x 2 tall tiles leave most of 132 SMs idle");
            Assert.That(TileChoice.For(50, 10, 1, 132), Is.EqualTo(TileShape.Tile64x64));
        });
    }
}
