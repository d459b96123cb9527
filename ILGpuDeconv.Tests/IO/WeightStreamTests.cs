using System;
using System.IO;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>
/// Weights and models through streams (an embedded resource, a blob, a download): the same values as by path, the
/// same bounds and exceptions, the format told by the bytes, the caller's stream left open.
/// </summary>
public sealed class WeightStreamTests
{
    private static string Files => Path.Combine(AppContext.BaseDirectory, "IO", "files");

    /// <summary>A real file, the options of a layer it fits, and the layout of its kernel.</summary>
    public static TestCaseData[] RealFiles =>
    [
        new TestCaseData("torch_state_dict.pt", new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, DataFormat = DataFormat.ChannelsFirst }, WeightLayout.PyTorch).SetName("stream: PyTorch 1.13 state_dict"),
        new TestCaseData("torch_weights.safetensors", new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, DataFormat = DataFormat.ChannelsFirst }, WeightLayout.PyTorch).SetName("stream: safetensors"),
        new TestCaseData("keras3.weights.h5", new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, Padding = Padding.Same, Name = "conv2d_transpose" }, WeightLayout.Keras).SetName("stream: Keras 3 .weights.h5"),
        new TestCaseData("keras3.keras", new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, Padding = Padding.Same, Name = "up1" }, WeightLayout.Keras).SetName("stream: Keras 3 .keras"),
        new TestCaseData("legacy.h5", new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, Padding = Padding.Same, Name = "up1" }, WeightLayout.Keras).SetName("stream: Keras 2 legacy .h5"),
        new TestCaseData("torch_convtranspose.onnx", new Conv2DTransposeOptions(4, (3, 2)) { Strides = (2, 3), DataFormat = DataFormat.ChannelsFirst }, WeightLayout.PyTorch).SetName("stream: ONNX from torch.onnx.export"),
    ];

    [TestCaseSource(nameof(RealFiles))]
    public void A_stream_loads_what_the_file_loads(string file, Conv2DTransposeOptions options, WeightLayout layout)
    {
        var device = TestAccelerators.Any();
        string path = Path.Combine(Files, file);

        // One layer at a time (the files name their layers, and a name is one layer's on a device).
        (float[] Kernel, float[]? Bias) Loaded(Action<Conv2DTranspose> load)
        {
            using var layer = new Conv2DTranspose(device, options);
            load(layer);
            return layer.GetWeights();
        }

        var byPath = Loaded(l => l.LoadWeights(path, layout));
        using var stream = File.OpenRead(path);
        var bySeekable = Loaded(l => l.LoadWeights(stream, layout));
        using var pipe = new ForwardOnly(File.ReadAllBytes(path));
        var byPipe = Loaded(l => l.LoadWeights(pipe, layout));
        Assert.Multiple(() =>
        {
            Assert.That(stream.CanRead, "the caller's stream stays open");
            Assert.That(bySeekable.Kernel, Is.EqualTo(byPath.Kernel), "a seekable stream");
            Assert.That(byPipe.Kernel, Is.EqualTo(byPath.Kernel), "a stream that cannot seek");
            Assert.That(bySeekable.Bias, Is.EqualTo(byPath.Bias));
        });

        if (file.EndsWith(".onnx", StringComparison.Ordinal))
        {
            using var model = File.OpenRead(path);
            using var fromStream = Conv2DTranspose.FromOnnx(device, model, new TensorShape(2, 3, 5, 4));
            var fromStreamWeights = fromStream.GetWeights();
            var fromStreamOptions = fromStream.Options;
            fromStream.Dispose();
            using var fromPath = Conv2DTranspose.FromOnnx(device, path, new TensorShape(2, 3, 5, 4));
            Assert.Multiple(() =>
            {
                Assert.That(fromStreamWeights.Kernel, Is.EqualTo(fromPath.GetWeights().Kernel));
                Assert.That(fromStreamOptions.ToString(), Is.EqualTo(fromPath.Options.ToString()), "the same options: pads, strides, output padding");
            });
        }
    }

    [TestCase(WeightFileFormat.Npz, "w.npz")]
    [TestCase(WeightFileFormat.SafeTensors, "w.safetensors")]
    [TestCase(WeightFileFormat.Keras, "w.weights.h5")]
    public void Saved_to_a_stream_is_what_a_file_holds(WeightFileFormat format, string name)
    {
        var device = TestAccelerators.Any();
        var (layer, _, _) = Layers.Random(device, new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2 }, new TensorShape(1, 3, 3, 5), seed: 41);
        using (layer)
        {
            using var buffer = new MemoryStream();
            layer.SaveWeights(buffer, format);
            string dir = Directory.CreateTempSubdirectory("stream-save").FullName;
            try
            {
                string path = Path.Combine(dir, name);
                File.WriteAllBytes(path, buffer.ToArray());
                using var back = new Conv2DTranspose(device, layer.Options);
                back.LoadWeights(path);
                Assert.That(back.GetWeights().Kernel, Is.EqualTo(layer.GetWeights().Kernel), "the stream's bytes are a file of that format");
                Assert.That(back.GetWeights().Bias, Is.EqualTo(layer.GetWeights().Bias));
                back.Dispose();
                using var fromStream = new Conv2DTranspose(device, layer.Options);
                buffer.Position = 0;
                fromStream.LoadWeights(buffer);
                Assert.That(fromStream.GetWeights().Kernel, Is.EqualTo(layer.GetWeights().Kernel), "and read back from the stream, its format told by its bytes");
            }
            finally
            {
                Directory.Delete(dir, recursive: true);
            }

            Assert.Throws<ArgumentException>(() => layer.SaveWeights(new MemoryStream(), WeightFileFormat.PyTorch), "PyTorch is read only");
        }
    }

    [Test]
    public void SaveOnnx_to_a_stream_writes_the_files_bytes()
    {
        var (layer, _, _) = Layers.Random(TestAccelerators.Any(), new Conv2DTransposeOptions(4, 3) { Strides = 2, Padding = Padding.Same }, new TensorShape(1, 4, 4, 2), seed: 43);
        using (layer)
        {
            string path = Path.Combine(Path.GetTempPath(), $"stream-{Guid.NewGuid():N}.onnx");
            try
            {
                layer.SaveOnnx(path, new TensorShape(1, 4, 4, 2));
                using var buffer = new MemoryStream();
                layer.SaveOnnx(buffer, new TensorShape(1, 4, 4, 2));
                Assert.That(buffer.ToArray(), Is.EqualTo(File.ReadAllBytes(path)));
            }
            finally
            {
                File.Delete(path);
            }
        }
    }

    [Test]
    public void Streams_are_refused_as_files_are_and_a_disposed_layer_reads_nothing()
    {
        var device = TestAccelerators.Any();
        using var layer = new Conv2DTranspose(device, new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2 });
        var truncated = File.ReadAllBytes(Path.Combine(Files, "torch_state_dict.pt"))[..300];
        var json = File.ReadAllBytes(Path.Combine(Files, "tfjs_model", "model.json"));
        Assert.Multiple(() =>
        {
            Assert.That(() => layer.LoadWeights(new MemoryStream(truncated), WeightLayout.PyTorch), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("the stream"));
            Assert.That(() => layer.LoadWeights(new MemoryStream(new byte[100])), Throws.InstanceOf<InvalidDataException>().With.Message.Contain("none of the formats"));
            Assert.That(() => layer.LoadWeights(new MemoryStream(json)), Throws.InstanceOf<NotSupportedException>().With.Message.Contain("by path"));
            Assert.That(layer.IsBuilt, Is.False, "the refused loads changed nothing");
        });

        layer.Dispose();
        using var untouched = new MemoryStream(File.ReadAllBytes(Path.Combine(Files, "torch_state_dict.pt")));
        Assert.Throws<ObjectDisposedException>(() => layer.LoadWeights(untouched, WeightLayout.PyTorch));
        Assert.That(untouched.Position, Is.Zero, "nothing was read");
    }

    /// <summary>A stream that reads forward only, as a network response does.</summary>
    private sealed class ForwardOnly(byte[] bytes) : Stream
    {
        private readonly MemoryStream inner = new(bytes);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            inner.Dispose();
            base.Dispose(disposing);
        }
    }
}
