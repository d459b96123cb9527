using System;
using System.Buffers.Binary;
using System.IO;
using System.IO.Compression;
using System.Linq;
using ILGpuDeconv.Examples.FashionMnist;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Examples;

/// <summary>
/// The Fashion-MNIST super-resolution example: a short training on real images lowers the loss and beats
/// bilinear upsampling, runs are deterministic, and its file readers and writers hold to their formats.
/// The training tests are ignored (with how to install the data) where Fashion-MNIST is missing.
/// </summary>
public sealed class FashionMnistTests
{
    private static string DataDirectory => Environment.GetEnvironmentVariable("FASHION_MNIST_DIR") ?? FashionMnistData.DebianDirectory;

    [Test]
    public void A_short_training_lowers_the_loss_and_beats_bilinear_upsampling()
    {
        RequireData();
        var train = FashionMnistData.Load(DataDirectory, train: true, limit: 1024);
        var test = FashionMnistData.Load(DataDirectory, train: false, limit: 256);
        using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
        using var model = new SuperResolutionModel(device, seed: 3);
        var losses = model.Train(train, epochs: 1, batch: 8, learningRate: 0.002f, seed: 3, reportEvery: 16);
        var ours = model.Predict(test.Low, test.Count, batch: 64);
        double psnr = Upsampling.Psnr(ours, test.High);
        double bilinear = Upsampling.Psnr(Upsampling.Bilinear(test.Low, test.Count), test.High);
        TestContext.Out.WriteLine($"loss {losses[0]:F5} -> {losses[^1]:F5}; test PSNR {psnr:F2} dB against bilinear {bilinear:F2} dB");
        Assert.That(losses[^1], Is.LessThan(losses[0] * 0.8), "the loss fell");
        Assert.That(psnr, Is.GreaterThan(bilinear), "better than bilinear upsampling");
    }

    [Test]
    public void Two_runs_with_one_seed_give_bitwise_identical_weights()
    {
        RequireData();
        var train = FashionMnistData.Load(DataDirectory, train: true, limit: 128);
        float[][] Run()
        {
            using var device = DeconvDevice.Create(AcceleratorKind.Cpu);
            using var model = new SuperResolutionModel(device, seed: 5);
            model.Train(train, epochs: 1, batch: 8, learningRate: 0.002f, seed: 5);
            return [.. model.Layers.SelectMany(l => new[] { l.GetWeights().Kernel, l.GetWeights().Bias! })];
        }

        var first = Run();
        var second = Run();
        Assert.That(second, Is.EqualTo(first));
    }

    [Test]
    public void Missing_data_is_explained()
    {
        string nowhere = Path.Combine(Path.GetTempPath(), "no-fashion-mnist-" + Guid.NewGuid().ToString("N"));
        Assert.That(FashionMnistData.Missing(nowhere), Does.Contain("apt-get install dataset-fashion-mnist").And.Contain(nowhere));
    }

    [TestCase(new byte[] { 1, 0, 8, 3 }, "magic number starts", TestName = "An IDX file with a wrong magic number is refused")]
    [TestCase(new byte[] { 0, 0, 0x0D, 3, 0, 0, 0, 1, 0, 0, 0, 28, 0, 0, 0, 28 }, "type byte", TestName = "An IDX file of floats is refused")]
    [TestCase(new byte[] { 0, 0, 8, 1, 0, 0, 0, 1 }, "rank 1", TestName = "An IDX file of the wrong rank is refused")]
    [TestCase(new byte[] { 0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3 }, "truncated", TestName = "A truncated IDX file is refused")]
    [TestCase(new byte[] { 0, 0, 8, 3, 0x7F, 0xFF, 0xFF, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF }, "more than", TestName = "An IDX file declaring billions of bytes is refused before reading them")]
    public void Malformed_idx_files_are_refused_naming_the_file(byte[] bytes, string fragment)
    {
        string path = Path.Combine(Path.GetTempPath(), $"idx-{Guid.NewGuid():N}");
        File.WriteAllBytes(path, bytes);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => IdxFile.Read(path, rank: 3));
            Assert.That(ex!.Message, Does.Contain(path).And.Contain(fragment));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void An_idx_file_round_trips_through_gzip()
    {
        byte[] raw = [0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 10, 20, 30, 40, 50, 60];
        string path = Path.Combine(Path.GetTempPath(), $"idx-{Guid.NewGuid():N}.gz");
        using (var gz = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gz.Write(raw);
        }

        try
        {
            var (dims, data) = IdxFile.Read(path, rank: 3);
            Assert.That(dims, Is.EqualTo(new[] { 1, 2, 3 }));
            Assert.That(data, Is.EqualTo(new byte[] { 10, 20, 30, 40, 50, 60 }));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void The_png_holds_the_pixels_in_the_standard_layout()
    {
        // Decoded independently here: chunk order and lengths, and the zlib stream's rows (filter byte 0, then the pixels).
        var pixels = Enumerable.Range(0, 5 * 3).Select(i => (byte)(i * 17)).ToArray();
        string path = Path.Combine(Path.GetTempPath(), $"grid-{Guid.NewGuid():N}.png");
        Png.WriteGray(path, 5, 3, pixels);
        try
        {
            var file = File.ReadAllBytes(path);
            Assert.That(file[..8], Is.EqualTo(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }));
            int offset = 8;
            var types = new System.Collections.Generic.List<string>();
            byte[]? idat = null;
            while (offset < file.Length)
            {
                int length = BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(offset));
                string type = System.Text.Encoding.ASCII.GetString(file, offset + 4, 4);
                types.Add(type);
                if (type == "IHDR")
                {
                    Assert.That(BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(offset + 8)), Is.EqualTo(5));
                    Assert.That(BinaryPrimitives.ReadInt32BigEndian(file.AsSpan(offset + 12)), Is.EqualTo(3));
                    Assert.That((file[offset + 16], file[offset + 17]), Is.EqualTo(((byte)8, (byte)0)), "8-bit grayscale");
                }

                if (type == "IDAT")
                {
                    idat = file.AsSpan(offset + 8, length).ToArray();
                }

                offset += 12 + length;
            }

            Assert.That(types, Is.EqualTo(new[] { "IHDR", "IDAT", "IEND" }));
            using var zlib = new ZLibStream(new MemoryStream(idat!), CompressionMode.Decompress);
            var rows = new byte[3 * 6];
            zlib.ReadExactly(rows);
            for (int y = 0; y < 3; y++)
            {
                Assert.That(rows[y * 6], Is.Zero, "filter none");
                Assert.That(rows.AsSpan((y * 6) + 1, 5).ToArray(), Is.EqualTo(pixels.AsSpan(y * 5, 5).ToArray()));
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Upsampling_baselines_and_psnr_follow_their_definitions()
    {
        // A constant 7x7 image stays constant under both; a ramp's bilinear samples follow half-pixel centres.
        var constant = Enumerable.Repeat(0.25f, 49).ToArray();
        Assert.That(Upsampling.Bilinear(constant, 1).All(v => Math.Abs(v - 0.25f) < 1e-7));
        Assert.That(Upsampling.Nearest(constant, 1).All(v => v == 0.25f));
        var ramp = Enumerable.Range(0, 49).Select(i => (float)(i % 7)).ToArray();
        var up = Upsampling.Bilinear(ramp, 1);
        Assert.That(up[0], Is.EqualTo(0f), "clamped at the edge");
        Assert.That(up[2], Is.EqualTo(0.125f).Within(1e-6), "x = 2: source (2.5 / 4) - 0.5 = 0.125");
        Assert.That(Upsampling.Psnr([0.1f, 0.1f], [0.2f, 0.2f]), Is.EqualTo(20).Within(1e-5), "an error of 0.1 everywhere is 20 dB");
    }

    private static void RequireData()
    {
        if (FashionMnistData.Missing(DataDirectory) is { } missing)
        {
            Assert.Ignore(missing);
        }
    }
}
