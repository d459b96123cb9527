using System;
using System.Buffers.Binary;
using System.Collections.Generic;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>.npy/.npz against files built byte by byte from the NumPy format specification, round trips, and bad files.</summary>
public sealed class NumPyFormatTests
{
    /// <summary>An .npy file as the specification describes it: magic, version, header length, header dict, data.</summary>
    /// <summary>An .npy file written byte by byte from the format specification (header padded to 64 bytes).</summary>
    internal static byte[] HandMade(string header, byte[] data, int major = 1)
    {
        using var stream = new MemoryStream();
        stream.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0]);
        int prefix = major == 1 ? 10 : 12;
        string padded = header + new string(' ', (64 - ((prefix + header.Length + 1) % 64)) % 64) + "\n";
        var length = new byte[major == 1 ? 2 : 4];
        if (major == 1)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(length, (ushort)padded.Length);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)padded.Length);
        }

        stream.Write(length);
        stream.Write(Encoding.ASCII.GetBytes(padded));
        stream.Write(data);
        return stream.ToArray();
    }

    private static byte[] Floats(IEnumerable<float> values, bool bigEndian = false) => values.SelectMany(v =>
    {
        var bytes = new byte[4];
        if (bigEndian)
        {
            BinaryPrimitives.WriteSingleBigEndian(bytes, v);
        }
        else
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes, v);
        }

        return bytes;
    }).ToArray();

    [Test]
    public void Reads_a_version_1_float32_file()
    {
        var file = HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", Floats([1, 2, 3, 4, 5, 6]));
        var array = NumPyFormat.ReadNpy(new MemoryStream(file));
        Assert.Multiple(() =>
        {
            Assert.That(array.Shape, Is.EqualTo(new TensorShape(2, 3)));
            Assert.That(array.Values, Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
        });
    }

    [Test]
    public void Reads_version_2_big_endian_float64_and_one_dimensional_shapes()
    {
        var data = new[] { 0.5, -2.25, 1e-3 }.SelectMany(v =>
        {
            var bytes = new byte[8];
            BinaryPrimitives.WriteDoubleBigEndian(bytes, v);
            return bytes;
        }).ToArray();
        var array = NumPyFormat.ReadNpy(new MemoryStream(HandMade("{'descr': '>f8', 'fortran_order': False, 'shape': (3,), }", data, major: 2)));
        Assert.Multiple(() =>
        {
            Assert.That(array.Shape, Is.EqualTo(new TensorShape(3)));
            Assert.That(array.Values, Is.EqualTo(new[] { 0.5f, -2.25f, 1e-3f }));
        });
    }

    [Test]
    public void Accepts_keys_in_any_order_and_big_endian_float32()
    {
        var file = HandMade("{'shape': (1, 2), 'fortran_order': False, 'descr': '>f4'}", Floats([7, -8], bigEndian: true));
        Assert.That(NumPyFormat.ReadNpy(new MemoryStream(file)).Values, Is.EqualTo(new float[] { 7, -8 }));
    }

    public static TestCaseData[] BadFiles =>
    [
        new TestCaseData(HandMade("{'descr': '<i8', 'fortran_order': False, 'shape': (2,), }", new byte[16]), "dtype '<i8'").SetName("wrong dtype"),
        new TestCaseData(HandMade("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]), "Fortran").SetName("Fortran order"),
        new TestCaseData(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", new byte[20]), "truncated").SetName("truncated data"),
        new TestCaseData(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", [])[..30], "truncated").SetName("truncated header"),
        new TestCaseData(Encoding.ASCII.GetBytes("PK\u0003\u0004 not numpy at all"), "not a .npy file").SetName("wrong magic"),
        new TestCaseData(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (), }", new byte[4]), "at least one dimension").SetName("scalar"),
        new TestCaseData(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", []), "no empty").SetName("empty"),
        new TestCaseData(HandMade("['descr', '<f4']", new byte[4]), "malformed header").SetName("header not a dict"),
        new TestCaseData(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", new byte[8]), "malformed shape").SetName("malformed shape"),
    ];

    [TestCaseSource(nameof(BadFiles))]
    public void Bad_files_are_refused_clearly(byte[] file, string message)
    {
        var ex = Assert.Throws<InvalidDataException>(() => NumPyFormat.ReadNpy(new MemoryStream(file), "weights.npy"));
        Assert.That(ex!.Message, Does.Contain(message).And.Contain("weights.npy"));
    }

    [Test]
    public void Npy_round_trips_and_its_header_is_64_byte_aligned()
    {
        var values = Enumerable.Range(0, 24).Select(i => (i * 0.37f) - 3f).ToArray();
        using var stream = new MemoryStream();
        NumPyFormat.WriteNpy(stream, values, new TensorShape(2, 3, 4));
        var bytes = stream.ToArray();
        int headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        string header = Encoding.ASCII.GetString(bytes, 10, headerLength);
        Assert.Multiple(() =>
        {
            Assert.That((10 + headerLength) % 64, Is.Zero);
            Assert.That(header, Does.StartWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, 4), }").And.EndWith("\n"));
            var read = NumPyFormat.ReadNpy(new MemoryStream(bytes));
            Assert.That(read.Values, Is.EqualTo(values));
            Assert.That(read.Shape, Is.EqualTo(new TensorShape(2, 3, 4)));
        });
    }

    [Test]
    public void Npz_round_trips_and_reads_deflated_archives()
    {
        using var stream = new MemoryStream();
        NumPyFormat.WriteNpz(stream, [new("kernel", new NumPyArray([1, 2, 3, 4], new TensorShape(2, 2))), new("bias", new NumPyArray([5], new TensorShape(1)))]);
        var read = NumPyFormat.ReadNpz(new MemoryStream(stream.ToArray()));
        Assert.That(read.Keys, Is.EquivalentTo(new[] { "kernel", "bias" }));
        Assert.That(read["kernel"].Values, Is.EqualTo(new float[] { 1, 2, 3, 4 }));

        // numpy.savez_compressed deflates its entries.
        using var compressed = new MemoryStream();
        using (var zip = new ZipArchive(compressed, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("arr_0.npy", CompressionLevel.Optimal).Open();
            entry.Write(HandMade("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", Floats([9, 8, 7])));
        }

        Assert.That(NumPyFormat.ReadNpz(new MemoryStream(compressed.ToArray()))["arr_0"].Values, Is.EqualTo(new float[] { 9, 8, 7 }));
    }

    [Test]
    public void A_layer_saves_and_loads_its_weights()
    {
        var device = TestAccelerators.Any();
        var options = new Conv2DTransposeOptions(3, (2, 3));
        var (source, x, shape) = Layers.Random(device, options, new TensorShape(1, 2, 2, 4), seed: 71);
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-{Guid.NewGuid():N}.npz");
        try
        {
            using (source)
            {
                source.SaveWeights(path);
                using var copy = new Conv2DTranspose(device, options);
                copy.LoadWeights(path);
                Assert.That(copy.Predict(x, shape), Is.EqualTo(source.Predict(x, shape)));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void PyTorch_kernels_load_transposed_to_the_Keras_layout()
    {
        var device = TestAccelerators.Any();
        int c = 2, f = 3, kh = 2, kw = 3;
        var keras = RandomTensors.Uniform(new Random(72), kh * kw * f * c);
        // PyTorch ConvTranspose2d.weight[c, f, a, b] = Keras kernel[a, b, f, c].
        var torch = new float[keras.Length];
        for (int ci = 0; ci < c; ci++)
        {
            for (int fi = 0; fi < f; fi++)
            {
                for (int a = 0; a < kh; a++)
                {
                    for (int b = 0; b < kw; b++)
                    {
                        torch[(((((ci * f) + fi) * kh) + a) * kw) + b] = keras[(((((a * kw) + b) * f) + fi) * c) + ci];
                    }
                }
            }
        }

        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-{Guid.NewGuid():N}.npz");
        try
        {
            using (var file = File.Create(path))
            {
                NumPyFormat.WriteNpz(file, [new("deconv.weight", new NumPyArray(torch, new TensorShape(c, f, kh, kw))), new("deconv.bias", new NumPyArray([1, 2, 3], new TensorShape(3)))]);
            }

            using var layer = new Conv2DTranspose(device, new Conv2DTransposeOptions(f, (kh, kw)));
            layer.LoadWeights(path, WeightLayout.PyTorch);
            var (kernel, bias) = layer.GetWeights();
            Assert.Multiple(() =>
            {
                Assert.That(kernel, Is.EqualTo(keras));
                Assert.That(bias, Is.EqualTo(new float[] { 1, 2, 3 }));
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_kernel_of_the_wrong_shape_is_refused_with_both_shapes()
    {
        var device = TestAccelerators.Any();
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-{Guid.NewGuid():N}.npy");
        try
        {
            using (var file = File.Create(path))
            {
                NumPyFormat.WriteNpy(file, new float[2 * 2 * 5 * 3], new TensorShape(2, 2, 5, 3));
            }

            using var layer = new Conv2DTranspose(device, new Conv2DTransposeOptions(4, 2));
            layer.Build(3);
            var ex = Assert.Throws<InvalidDataException>(() => layer.LoadWeights(path));
            Assert.That(ex!.Message, Does.Contain("[2, 2, 5, 3]").And.Contain("[2, 2, 4, 3]"));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
