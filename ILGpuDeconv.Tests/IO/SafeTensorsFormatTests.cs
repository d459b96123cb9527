using System;
using System.Buffers.Binary;
using System.IO;
using System.Linq;
using System.Text;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>safetensors: a file written by the format's specification from PyTorch's weights, one written by the safetensors library (0.4.5), the layer's own files read back, and hostile headers.</summary>
public sealed class SafeTensorsFormatTests
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "files", name);

    [Test]
    public void PyTorch_weights_in_safetensors_give_PyTorchs_output() => PyTorchCheckpointFormatTests.AssertGivesPyTorchsOutput(File("torch_weights.safetensors"));

    [Test]
    public void A_file_the_safetensors_library_wrote_gives_PyTorchs_output() => PyTorchCheckpointFormatTests.AssertGivesPyTorchsOutput(File("torch26_weights.safetensors"), "torch26_forward.npz");

    [TestCase(WeightLayout.Keras, "kernel")]
    [TestCase(WeightLayout.PyTorch, "weight")]
    public void Saved_weights_read_back_bit_for_bit(WeightLayout layout, string kernelName)
    {
        var device = TestAccelerators.Any();
        using var layer = new Conv2DTranspose(device, new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2 });
        layer.Build(3);
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-{Guid.NewGuid():N}.safetensors");
        try
        {
            layer.SaveWeights(path, layout);
            using (var stream = System.IO.File.OpenRead(path))
            {
                var listed = SafeTensorsFormat.List(stream, path);
                Assert.That(listed.Select(t => t.Name), Is.EqualTo(new[] { kernelName, "bias" }));
                Assert.That(listed[0].Shape, Is.EqualTo(layout == WeightLayout.Keras ? new[] { 3, 2, 4, 3 } : new[] { 3, 4, 3, 2 }));
                Assert.That(stream.Length % 4, Is.Zero);
            }

            using var other = new Conv2DTranspose(device, new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, Name = "other" });
            other.Build(3);
            other.LoadWeights(path, layout);
            Assert.Multiple(() =>
            {
                Assert.That(other.GetWeights().Kernel, Is.EqualTo(layer.GetWeights().Kernel));
                Assert.That(other.GetWeights().Bias, Is.EqualTo(layer.GetWeights().Bias));
            });
        }
        finally
        {
            System.IO.File.Delete(path);
        }
    }

    private static MemoryStream Made(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var stream = new MemoryStream();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)json.Length);
        stream.Write(length);
        stream.Write(json);
        stream.Write(new byte[dataBytes]);
        stream.Position = 0;
        return stream;
    }

    [TestCase("""{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}""", 8, "outside the 8 bytes of data")]
    [TestCase("""{"w":{"dtype":"F32","shape":[3],"data_offsets":[0,16]}}""", 16, "needs 12")]
    [TestCase("""{"w":{"dtype":"I64","shape":[2],"data_offsets":[0,16]}}""", 16, "field 'dtype' is I64")]
    [TestCase("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"v":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", 16, "overlaps")]
    [TestCase("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"w":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}""", 16, "names tensor 'w' twice")]
    [TestCase("""{"w":{"dtype":"F32","shape":[65536,65536,65536],"data_offsets":[0,16]}}""", 16, "needs 1125899906842624")]
    [TestCase("""{"w":{"dtype":"F32","shape":[2147483647,2147483647,2147483647],"data_offsets":[0,16]}}""", 16, "needs more")]
    [TestCase("""{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}""", 4, "not a dimension")]
    [TestCase("""{"w":{"dtype":"F32","shape":[1]}}""", 4, "'data_offsets' is missing")]
    [TestCase("""{"w":[1,2]}""", 4, "not a JSON object")]
    [TestCase("""{"w":""", 4, "not valid JSON")]
    public void Hostile_headers_are_refused_naming_file_tensor_and_field(string header, int dataBytes, string expected)
    {
        using var stream = Made(header, dataBytes);
        var error = Assert.Throws<InvalidDataException>(() => SafeTensorsFormat.Read(stream, "bad.safetensors"))!;
        Assert.That(error.Message, Does.Contain("bad.safetensors").And.Contain(expected));
    }

    [Test]
    public void A_header_length_past_the_file_or_the_limit_is_refused_before_reading_it()
    {
        var bytes = new byte[16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, 0x7FFF_FFFF_FFFF_FFF0);
        var stream = new MemoryStream(bytes);
        Assert.That(() => SafeTensorsFormat.List(stream, "huge.safetensors"), Throws.TypeOf<InvalidDataException>().With.Message.Contains("header length"));
        Assert.That(() => SafeTensorsFormat.List(new MemoryStream(new byte[3]), "short.safetensors"), Throws.TypeOf<InvalidDataException>().With.Message.Contains("shorter than"));
    }

    [Test]
    public void A_tensor_past_the_element_limit_is_refused_and_others_are_not_read()
    {
        using var stream = Made("""{"big":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},"small":{"dtype":"BF16","shape":[1],"data_offsets":[16,18]}}""", 18);
        Assert.That(() => SafeTensorsFormat.Read(stream, "t", maxElements: 2), Throws.TypeOf<InvalidDataException>().With.Message.Contains("'big' has 4 elements"));
        stream.Position = 0;
        var small = SafeTensorsFormat.Read(stream, "t", name => name == "small", maxElements: 2);
        Assert.That(small.Keys, Is.EqualTo(new[] { "small" }));
        Assert.That(small["small"].Shape, Is.EqualTo(new TensorShape(1)));
    }
}
