using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using System.Text;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>
/// Files built from the .npy and zip specifications to attack the reader: a refusal names the file, the
/// entry and the field; memory stays bounded by what the caller asked to load; nothing is half-loaded into
/// a layer. Allocations are measured with <see cref="GC.GetAllocatedBytesForCurrentThread"/>.
/// </summary>
public sealed class HostileFileTests
{
    private const long FewMegabytes = 16L << 20;

    [Test]
    public void A_header_length_near_two_to_the_31_is_refused_without_allocating_it()
    {
        // Version 2.0: a 4-byte header length of 0x7FFFFFF0, and nothing behind it.
        byte[] file = [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 2, 0, 0xF0, 0xFF, 0xFF, 0x7F];
        var ex = AssertRefusedCheaply(() => NumPyFormat.ReadNpy(new MemoryStream(file), "big-header.npy"));
        Assert.That(ex.Message, Does.Contain("big-header.npy").And.Contain("header length").And.Contain("10000"));
    }

    [TestCase("(65536, 65536, 65536, 65536)", TestName = "A shape whose product wraps to 0 is refused")]
    [TestCase("(3037000500, 3037000500)", TestName = "A shape past 32-bit dimensions is refused")]
    [TestCase("(2147483647, 2147483647, 2147483647)", TestName = "A shape whose product wraps negative is refused")]
    public void Shapes_whose_element_count_overflows_are_refused(string shape)
    {
        var file = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }", new byte[16]);
        var ex = AssertRefusedCheaply(() => NumPyFormat.ReadNpy(new MemoryStream(file), "wrap.npy"));
        Assert.That(ex.Message, Does.Contain("wrap.npy").And.Contain("shape"));
    }

    [Test]
    public void A_large_declared_array_in_a_short_file_is_refused_without_allocating_it()
    {
        // 100 million floats declared (400 MB), 8 bytes present.
        var file = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (100000000,), }", new byte[8]);
        var ex = AssertRefusedCheaply(() => NumPyFormat.ReadNpy(new MemoryStream(file), "short.npy"));
        Assert.That(ex.Message, Does.Contain("short.npy").And.Contain("truncated").And.Contain("400000000 bytes"));
    }

    [Test]
    public void An_array_above_the_callers_limit_is_refused_before_its_data()
    {
        var file = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1000,), }", new byte[4000]);
        var ex = Assert.Throws<InvalidDataException>(() => NumPyFormat.ReadNpy(new MemoryStream(file), "limit.npy", maxElements: 999));
        Assert.That(ex!.Message, Does.Contain("limit.npy").And.Contain("1000 elements").And.Contain("999"));
        Assert.That(NumPyFormat.ReadNpy(new MemoryStream(file), "limit.npy", maxElements: 1000).Values, Has.Length.EqualTo(1000));
    }

    [Test]
    public void Duplicate_names_in_an_npz_are_refused_naming_the_entry()
    {
        var zip = Zip(("kernel.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", new byte[4]), CompressionLevel.NoCompression),
                      ("kernel.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", new byte[8]), CompressionLevel.NoCompression));
        var ex = Assert.Throws<InvalidDataException>(() => NumPyFormat.ReadNpz(new MemoryStream(zip), "twice.npz"));
        Assert.That(ex!.Message, Does.Contain("twice.npz").And.Contain("kernel.npy"));
    }

    [Test]
    public void Entries_a_load_does_not_need_are_never_inflated()
    {
        // 40 entries of 4 MiB of deflated zeros (160 MiB inflated, a few hundred kB on disk) beside a small kernel.
        var zeros = Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1048576,), }", new byte[4 << 20]);
        var entries = Enumerable.Range(0, 40).Select(i => ($"junk{i}.npy", zeros, CompressionLevel.Optimal))
            .Append(("kernel.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3, 1), }", new byte[48]), CompressionLevel.NoCompression))
            .Append(("bias.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new byte[12]), CompressionLevel.NoCompression))
            .ToArray();
        var zip = Zip(entries);
        Assert.That(zip.Length, Is.LessThan(4 << 20), "the archive itself is small");

        long before = GC.GetAllocatedBytesForCurrentThread();
        var read = NumPyFormat.ReadNpz(new MemoryStream(zip), "bomb.npz", include: name => name == "kernel");
        Assert.That(read.Keys, Is.EqualTo(new[] { "kernel" }));
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(FewMegabytes));

        string path = TempFile(zip, ".npz");
        try
        {
            using var layer = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(3, 2));
            before = GC.GetAllocatedBytesForCurrentThread();
            layer.LoadWeights(path);
            Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(FewMegabytes), "LoadWeights reads the kernel and the bias only");
            Assert.That(layer.KernelShape, Is.EqualTo(new TensorShape(2, 2, 3, 1)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_kernel_whose_header_claims_a_huge_shape_is_refused_before_its_data()
    {
        var zip = Zip(("kernel.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3, 100000000), }", new byte[64]), CompressionLevel.NoCompression));
        string path = TempFile(zip, ".npz");
        try
        {
            using var layer = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(3, 2) { UseBias = false });
            var ex = AssertRefusedCheaply(() => layer.LoadWeights(path));
            Assert.That(ex.Message, Does.Contain(path).And.Contain("kernel").And.Contain("shape"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_refused_file_leaves_the_weights_as_they_were()
    {
        // A good kernel and a truncated bias: nothing may be set.
        var kernel = Floats(Enumerable.Range(0, 2 * 2 * 3 * 1).Select(i => (float)i));
        var zip = Zip(
            ("kernel.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3, 1), }", kernel), CompressionLevel.NoCompression),
            ("bias.npy", Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", new byte[5]), CompressionLevel.NoCompression));
        string path = TempFile(zip, ".npz");
        try
        {
            var (layer, _, _) = Layers.Random(TestAccelerators.Any(), new Conv2DTransposeOptions(3, 2), new TensorShape(1, 2, 2, 1), seed: 5);
            using (layer)
            {
                var before = layer.GetWeights();
                var ex = Assert.Throws<InvalidDataException>(() => layer.LoadWeights(path));
                Assert.That(ex!.Message, Does.Contain(path).And.Contain("bias.npy").And.Contain("truncated"));
                Assert.That(layer.GetWeights().Kernel, Is.EqualTo(before.Kernel));
                Assert.That(layer.GetWeights().Bias, Is.EqualTo(before.Bias));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void An_npy_kernel_loaded_into_an_unbuilt_layer_keeps_the_initial_bias()
    {
        var kernel = Floats(Enumerable.Range(0, 2 * 2 * 3 * 1).Select(i => (float)i));
        string path = TempFile(Npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 3, 1), }", kernel), ".npy");
        try
        {
            using var layer = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(3, 2) { BiasInitializer = ILGpuDeconv.Initializer.Constant(0.5f) });
            layer.LoadWeights(path);
            Assert.That(layer.GetWeights().Bias, Is.EqualTo(new[] { 0.5f, 0.5f, 0.5f }), "the bias the initializer gives, not zeros");
            Assert.That(layer.GetWeights().Kernel, Is.EqualTo(Enumerable.Range(0, 12).Select(i => (float)i).ToArray()));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private static InvalidDataException AssertRefusedCheaply(Action call)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        var ex = Assert.Throws<InvalidDataException>(call);
        Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.LessThan(FewMegabytes), "memory allocated before refusing");
        return ex!;
    }

    private static byte[] Npy(string header, byte[] data) => NumPyFormatTests.HandMade(header, data);

    private static byte[] Floats(System.Collections.Generic.IEnumerable<float> values) =>
        values.SelectMany(v => BitConverter.GetBytes(v)).ToArray();

    private static byte[] Zip(params (string Name, byte[] Data, CompressionLevel Level)[] entries)
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, data, level) in entries)
            {
                using var entry = zip.CreateEntry(name, level).Open();
                entry.Write(data);
            }
        }

        return stream.ToArray();
    }

    private static string TempFile(byte[] data, string extension)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-hostile-{Guid.NewGuid():N}{extension}");
        File.WriteAllBytes(path, data);
        return path;
    }
}
