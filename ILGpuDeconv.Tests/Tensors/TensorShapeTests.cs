using System;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Tensors;

/// <summary>Shapes: element counts, equality by value, defensive copies, refusals that name the shape.</summary>
public sealed class TensorShapeTests
{
    [Test]
    public void Counts_elements_and_compares_by_value()
    {
        var shape = new TensorShape(2, 3, 4, 5);
        Assert.That(shape.Rank, Is.EqualTo(4));
        Assert.That(shape.ElementCount, Is.EqualTo(120));
        Assert.That(shape, Is.EqualTo(new TensorShape(2, 3, 4, 5)));
        Assert.That(shape == new TensorShape(2, 3, 4, 5), Is.True);
        Assert.That(shape != new TensorShape(2, 3, 5, 4), Is.True);
        Assert.That(shape.GetHashCode(), Is.EqualTo(new TensorShape(2, 3, 4, 5).GetHashCode()));
        Assert.That(shape.ToString(), Is.EqualTo("[2, 3, 4, 5]"));
    }

    [Test]
    public void Dimensions_are_copied_in_and_out()
    {
        int[] dims = [4, 4];
        var shape = new TensorShape(dims);
        dims[0] = 99;
        var copy = shape.ToArray();
        copy[1] = 99;
        Assert.That(shape.Dimensions, Is.EqualTo(new[] { 4, 4 }));
    }

    [Test]
    public void Empty_zero_and_negative_dimensions_are_refused()
    {
        Assert.Throws<ArgumentException>(() => _ = new TensorShape());
        var zero = Assert.Throws<ArgumentException>(() => _ = new TensorShape(2, 0, 3));
        Assert.That(zero!.Message, Does.Contain("[2, 0, 3]"));
        Assert.Throws<ArgumentException>(() => _ = new TensorShape(-1));
        Assert.Throws<ArgumentNullException>(() => _ = new TensorShape(null!));
    }

    [Test]
    public void An_element_count_past_long_saturates_instead_of_wrapping()
    {
        var huge = new TensorShape(int.MaxValue, int.MaxValue, int.MaxValue);
        Assert.That(huge.ElementCount, Is.EqualTo(long.MaxValue));
    }
}
