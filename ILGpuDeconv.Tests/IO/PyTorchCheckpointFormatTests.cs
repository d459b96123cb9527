using System;
using System.IO;
using System.Linq;
using ILGpuDeconv.Tests.Infrastructure;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>
/// PyTorch state_dict files made by PyTorch 1.13 (<c>IO/files/make_files.py</c>) and 2.6 (<c>make_trixie_files.py</c>): listed, read, loaded into the
/// layer, and the layer's output compared with PyTorch's own <c>ConvTranspose2d</c> output on the same input;
/// hostile pickles refused unread.
/// </summary>
public sealed class PyTorchCheckpointFormatTests
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "files", name);

    [Test]
    public void A_state_dict_lists_its_tensors_in_order()
    {
        using var stream = System.IO.File.OpenRead(File("torch_state_dict.pt"));
        var listed = PyTorchCheckpointFormat.List(stream, "torch_state_dict.pt");
        Assert.That(listed.Select(t => $"{t.Name} {t.Dtype} [{string.Join(", ", t.Shape)}]"), Is.EqualTo(new[] { "0.weight float32 [3, 4, 3, 2]", "0.bias float32 [4]" }));
    }

    [TestCase("torch_state_dict.pt", "torch_forward.npz", TestName = "A state_dict of PyTorch 1.13 reproduces PyTorch's output")]
    [TestCase("torch26_state_dict.pt", "torch26_forward.npz", TestName = "A state_dict of PyTorch 2.6 reproduces PyTorch's output")]
    public void The_layer_loaded_from_a_state_dict_reproduces_PyTorchs_output(string weights, string forward) => AssertGivesPyTorchsOutput(File(weights), forward);

    /// <summary>
    /// Loads the weights of <c>ConvTranspose2d(3, 4, (3, 2), stride=2)</c> from a file (PyTorch layout) into the layer
    /// built from the same arguments in Keras's terms (padding 0 = "valid", NCHW) and compares its output with
    /// PyTorch's on the same input (<paramref name="forward"/>: the input and output PyTorch saved with those weights).
    /// </summary>
    internal static void AssertGivesPyTorchsOutput(string weights, string forward = "torch_forward.npz")
    {
        var options = new Conv2DTransposeOptions(4, (3, 2)) { Strides = 2, Padding = Padding.Valid, DataFormat = DataFormat.ChannelsFirst };
        using var layer = new Conv2DTranspose(TestAccelerators.Any(), options);
        layer.Build(3);
        layer.LoadWeights(weights, WeightLayout.PyTorch);
        using var data = System.IO.File.OpenRead(File(forward));
        var arrays = NumPyFormat.ReadNpz(data, forward);
        var x = arrays["x"];
        var y = arrays["y"];
        Assert.That(layer.ComputeOutputShape(x.Shape), Is.EqualTo(y.Shape));
        Tolerance.AssertClose(layer.Forward(x.Values, x.Shape), Array.ConvertAll(y.Values, v => (double)v), $"the layer from {Path.GetFileName(weights)} against torch.nn.ConvTranspose2d");
    }

    [Test]
    public void A_nested_checkpoint_gives_dotted_names_float64_and_strided_tensors()
    {
        using var stream = System.IO.File.OpenRead(File("torch_checkpoint.pt"));
        var listed = PyTorchCheckpointFormat.List(stream, "torch_checkpoint.pt");
        stream.Position = 0;
        var read = PyTorchCheckpointFormat.Read(stream, "torch_checkpoint.pt");
        Assert.Multiple(() =>
        {
            Assert.That(listed.Select(t => t.Name), Is.EqualTo(new[] { "model.deconv.weight", "model.deconv.bias", "extra" }), "numbers (epoch, lr) are not tensors");
            Assert.That(listed[0].Dtype, Is.EqualTo("float64"));
            Assert.That(read["extra"].Shape, Is.EqualTo(new TensorShape(3, 2)));
            Assert.That(read["extra"].Values, Is.EqualTo(new float[] { 0, 3, 1, 4, 2, 5 }), "arange(6).reshape(2, 3).t(), read through its strides");
        });

        // The same weights as the plain state_dict, which stores them as float32.
        using var plain = System.IO.File.OpenRead(File("torch_state_dict.pt"));
        var weight = PyTorchCheckpointFormat.Read(plain, "torch_state_dict.pt")["0.weight"];
        Assert.That(read["model.deconv.weight"].Values, Is.EqualTo(weight.Values));
    }

    [Test]
    public void Half_and_bfloat16_tensors_are_widened_exactly()
    {
        using var stream = System.IO.File.OpenRead(File("torch_half.pt"));
        var read = PyTorchCheckpointFormat.Read(stream, "torch_half.pt");
        Assert.Multiple(() =>
        {
            Assert.That(read["half"].Values, Is.EqualTo(new[] { 1.5f, -2.25f, 65504f }));
            Assert.That(read["bf16"].Values[..2], Is.EqualTo(new[] { 1.5f, -2.25f }));
            Assert.That(read["bf16"].Values[2], Is.EqualTo(3.0e38f).Within(0.01e38f), "bfloat16 keeps 8 mantissa bits");
        });
    }

    [Test]
    public void A_pickle_that_would_run_code_is_refused_unread()
    {
        using var stream = System.IO.File.OpenRead(File("torch_malicious.pt"));
        var error = Assert.Throws<InvalidDataException>(() => PyTorchCheckpointFormat.List(stream, "torch_malicious.pt"))!;
        Assert.That(error.Message, Does.Contain("torch_malicious.pt").And.Contain("posix.system").And.Contain("not loaded"));
    }

    [Test]
    public void The_legacy_format_is_refused_with_advice()
    {
        using var stream = System.IO.File.OpenRead(File("torch_legacy.pt"));
        Assert.That(() => PyTorchCheckpointFormat.List(stream, "torch_legacy.pt"), Throws.TypeOf<InvalidDataException>().With.Message.Contains("legacy").And.Message.Contains("torch_legacy.pt"));
    }

    [Test]
    public void A_tensor_past_its_storage_or_the_element_limit_is_refused()
    {
        using var stream = System.IO.File.OpenRead(File("torch_state_dict.pt"));
        Assert.That(
            () => PyTorchCheckpointFormat.Read(stream, "torch_state_dict.pt", maxElements: 10),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("'0.weight' has 72 elements"));

        // The weight's storage cut short inside a copy of the file.
        var bytes = System.IO.File.ReadAllBytes(File("torch_state_dict.pt"));
        using var copy = new MemoryStream();
        copy.Write(bytes);
        using (var zip = new System.IO.Compression.ZipArchive(copy, System.IO.Compression.ZipArchiveMode.Update, leaveOpen: true))
        {
            var entry = zip.GetEntry("torch_state_dict/data/0")!;
            entry.Delete();
            using var shorter = zip.CreateEntry("torch_state_dict/data/0").Open();
            shorter.Write(new byte[40]);
        }

        copy.Position = 0;
        Assert.That(
            () => PyTorchCheckpointFormat.Read(copy, "cut.pt"),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("cut.pt").And.Message.Contains("storage '0'"));
    }
}

/// <summary>Hand-made pickles inside an otherwise valid state_dict zip: each refused with the file named, nothing built.</summary>
public sealed class PyTorchHostilePickleTests
{
    private static MemoryStream WithPickle(byte[] pickle)
    {
        var stream = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(stream, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var entry = zip.CreateEntry("archive/data.pkl").Open())
            {
                entry.Write(pickle);
            }

            using (var version = zip.CreateEntry("archive/version").Open())
            {
                version.Write("3\n"u8);
            }
        }

        stream.Position = 0;
        return stream;
    }

    // PROTO 2, then the body, then STOP.
    private static byte[] Pickle(params byte[] body) => [0x80, 2, .. body, (byte)'.'];

    [TestCase(new byte[] { (byte)'i' }, "opcode 0x69")]                                  // INST: builds an object by name
    [TestCase(new byte[] { (byte)'c', (byte)'o', (byte)'s', 10, (byte)'s', (byte)'y', (byte)'s', (byte)'t', (byte)'e', (byte)'m', 10 }, "os.system")]
    [TestCase(new byte[] { (byte)'h', 7 }, "memo 7")]                                     // BINGET of nothing
    [TestCase(new byte[] { (byte)'X', 0xFF, 0xFF, 0xFF, 0x7F }, "ends early")]            // a 2 GB string in a few bytes
    [TestCase(new byte[] { (byte)'t' }, "mark it did not set")]                           // TUPLE without MARK
    [TestCase(new byte[] { (byte)'}', (byte)'}' }, "stack of 2")]                         // two objects left
    public void A_hostile_pickle_is_refused_naming_the_file(byte[] body, string expected)
    {
        using var stream = WithPickle(Pickle(body));
        Assert.That(
            () => PyTorchCheckpointFormat.List(stream, "hostile.pt"),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("hostile.pt").And.Message.Contains(expected));
    }

    [Test]
    public void A_storage_key_that_leaves_the_archive_is_refused()
    {
        // {'w': _rebuild_tensor_v2(persistent ('storage', FloatStorage, '../x', 'cpu', 1), 0, (1,), (1,), False, OrderedDict())}
        var body = new System.Collections.Generic.List<byte> { (byte)'}', (byte)'X' };
        void Text(string s)
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(s);
            body.AddRange(BitConverter.GetBytes(bytes.Length));
            body.AddRange(bytes);
        }

        void Global(string module, string name) => body.AddRange(System.Text.Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));
        Text("w");
        Global("torch._utils", "_rebuild_tensor_v2");
        body.Add((byte)'(');
        body.Add((byte)'(');
        body.Add((byte)'X');
        Text("storage");
        Global("torch", "FloatStorage");
        body.Add((byte)'X');
        Text("../x");
        body.Add((byte)'X');
        Text("cpu");
        body.AddRange(new byte[] { (byte)'K', 1, (byte)'t', (byte)'Q', (byte)'K', 0, (byte)'K', 1, 0x85, (byte)'K', 1, 0x85, 0x89 });
        Global("collections", "OrderedDict");
        body.AddRange(new byte[] { (byte)')', (byte)'R', (byte)'t', (byte)'R', (byte)'s' });
        using var stream = WithPickle(Pickle([.. body]));
        Assert.That(
            () => PyTorchCheckpointFormat.List(stream, "escape.pt"),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("escape.pt").And.Message.Contains("'../x', not a plain key"));
    }
}
