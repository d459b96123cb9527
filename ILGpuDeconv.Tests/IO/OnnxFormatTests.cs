using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using Google.Protobuf;
using ILGpuDeconv.IO.Onnx;
using ILGpuDeconv.Tests.Infrastructure;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO;

/// <summary>
/// ONNX: ONNX's own backend tests for ConvTranspose (Debian's libonnx-testdata), layers saved with
/// <see cref="Conv2DTranspose.SaveOnnx"/> run by ONNX Runtime, a model PyTorch exported, and hostile files.
/// </summary>
public sealed class OnnxFormatTests
{
    /// <summary>Where Debian's libonnx-testdata puts ONNX 1.12's backend test data.</summary>
    public const string BackendTestData = "/usr/share/libonnx-testdata/data";

    private static string Files => Path.Combine(AppContext.BaseDirectory, "IO", "files");

    /// <summary>Every ConvTranspose backend test of the package (model.onnx and test_data_set_0), by kind of accelerator.</summary>
    public static IEnumerable<TestCaseData> BackendCases()
    {
        var dirs = Directory.Exists(BackendTestData)
            ? Directory.GetDirectories(BackendTestData, "test_*", SearchOption.AllDirectories)
                .Where(d => Path.GetFileName(d).Contains("onvtranspose", StringComparison.OrdinalIgnoreCase) || Path.GetFileName(d).Contains("ConvTranspose", StringComparison.Ordinal))
                .Order(StringComparer.Ordinal).ToList()
            : [];
        if (dirs.Count == 0)
        {
            yield return new TestCaseData(AcceleratorKind.Cpu, string.Empty).SetName("OnnxBackend(libonnx-testdata not installed)");
            yield break;
        }

        foreach (var kind in TestAccelerators.Tested)
        {
            foreach (string dir in dirs)
            {
                string name = Path.GetRelativePath(BackendTestData, dir);
                yield return new TestCaseData(kind, name).SetName($"OnnxBackend({kind}, {name})");
            }
        }
    }

    [TestCaseSource(nameof(BackendCases))]
    public void Onnx_backend_test_passes_or_is_refused_as_3D(AcceleratorKind kind, string test)
    {
        if (test.Length == 0)
        {
            Assert.Ignore($"ONNX's backend test data are not installed: apt-get install libonnx-testdata (it puts them in {BackendTestData}).");
        }

        var device = TestAccelerators.Require(kind);
        string dir = Path.Combine(BackendTestData, test);
        string model = Path.Combine(dir, "model.onnx");
        var node = OnnxFormat.ConvTransposeNodes(model).Single();
        string data = Path.Combine(dir, "test_data_set_0");
        var x = OnnxFormat.ReadTensor(Path.Combine(data, "input_0.pb"));
        var expected = OnnxFormat.ReadTensor(Path.Combine(data, "output_0.pb"));
        if (node.SpatialRank == 3)
        {
            var refused = Assert.Throws<NotSupportedException>(() => node.ToOptions(x.Shape))!;
            Assert.That(refused.Message, Does.Contain(node.Name).And.Contain("3-D").And.Contain("kernel_shape"));
            return;
        }

        using var layer = new Conv2DTranspose(device, node.ToOptions(x.Shape));
        var initializers = OnnxFormat_Initializers(model);
        if (initializers.Contains(node.Weight))
        {
            layer.LoadWeights(model);
        }
        else
        {
            // The node tests give W (and B) as inputs: input_1.pb, input_2.pb.
            var w = OnnxFormat.ReadTensor(Path.Combine(data, "input_1.pb"));
            var b = node.Bias is null ? null : OnnxFormat.ReadTensor(Path.Combine(data, "input_2.pb"));
            layer.SetWeights(KerasKernel(w), b is null ? ReadOnlySpan<float>.Empty : b.Values);
        }

        var input = node.LayerInputShape(x.Shape);
        var y = layer.Forward(x.Values, input);
        // A 1-D node runs as a layer of height 1: its [N, F, 1, W] is ONNX's [N, F, W].
        int[] shape = layer.ComputeOutputShape(input).ToArray();
        int[] onnxShape = node.SpatialRank == 1 ? [shape[0], shape[1], shape[3]] : shape;
        Assert.That(onnxShape, Is.EqualTo(expected.Shape.ToArray()), $"{node}: output {layer.ComputeOutputShape(input)} against ONNX's {expected.Shape}");
        Tolerance.AssertClose(y, Array.ConvertAll(expected.Values, v => (double)v), $"{test}: {node}", 1e-5, 1e-5);
        TestContext.Out.WriteLine($"{test}: {node}, output {expected.Shape}: passed");
    }

    /// <summary>Configurations for SaveOnnx: both data formats, Keras same with odd sizes, groups, pads, dilation, activations ONNX spells differently.</summary>
    public static IEnumerable<TestCaseData> RoundTrips()
    {
        var same = new Conv2DTransposeOptions(5, 3) { Strides = 2, Padding = Padding.Same };
        yield return new TestCaseData(same, new TensorShape(2, 5, 7, 3)).SetName("SaveOnnx: same, k3 s2, odd sizes, NHWC");
        yield return new TestCaseData(same with { DataFormat = DataFormat.ChannelsFirst, Activation = Activation.Relu6 }, new TensorShape(1, 3, 4, 6)).SetName("SaveOnnx: same, NCHW, relu6");
        yield return new TestCaseData(new Conv2DTransposeOptions(6, (2, 3)) { Strides = (3, 1), OutputPadding = (2, 0), Activation = Activation.Swish, Groups = 3 }, new TensorShape(2, 4, 5, 6)).SetName("SaveOnnx: output_padding, groups 3, swish");
        yield return new TestCaseData(new Conv2DTransposeOptions(4, 3) { DilationRate = 2, Activation = Activation.Softmax }, new TensorShape(1, 5, 5, 2)).SetName("SaveOnnx: dilation, softmax along the filters");
        yield return new TestCaseData(new Conv2DTransposeOptions(4, 3) { DataFormat = DataFormat.ChannelsFirst, Activation = Activation.LogSoftmax, UseBias = false }, new TensorShape(1, 2, 4, 5)).SetName("SaveOnnx: log_softmax along the width, no bias");
        yield return new TestCaseData(new Conv2DTransposeOptions(3, 4) { Strides = 2, Pads = new Pads2D(1, 2, 0, 3), Activation = Activation.Gelu }, new TensorShape(2, 3, 4, 2)).SetName("SaveOnnx: asymmetric pads, gelu");
        yield return new TestCaseData(new Conv2DTransposeOptions(3, 3) { Strides = 2, Pads = new Pads2D(0, -1, 1, 0), Activation = Activation.GeluApproximate }, new TensorShape(1, 3, 3, 2)).SetName("SaveOnnx: a row past the full result (output_padding), gelu tanh");
        yield return new TestCaseData(new Conv2DTransposeOptions(2, 2) { Strides = 2, Activation = Activation.HardSigmoid }, new TensorShape(1, 3, 3, 4)).SetName("SaveOnnx: hard_sigmoid");
        foreach (var activation in new[] { Activation.Selu, Activation.Elu, Activation.LeakyRelu, Activation.Mish, Activation.HardSilu, Activation.Softplus, Activation.Softsign, Activation.Tanh, Activation.Sigmoid, Activation.Exponential })
        {
            yield return new TestCaseData(new Conv2DTransposeOptions(3, 2) { Activation = activation }, new TensorShape(1, 3, 3, 2)).SetName($"SaveOnnx: {activation.Name}");
        }
    }

    [TestCaseSource(nameof(RoundTrips))]
    public void A_saved_layer_runs_in_ONNX_Runtime_with_the_layers_output(Conv2DTransposeOptions options, TensorShape inputShape)
    {
        var device = TestAccelerators.Any();
        using var layer = new Conv2DTranspose(device, options);
        var random = new Random(3);
        var x = RandomTensors.Uniform(random, inputShape.ElementCount);
        layer.Build(options.DataFormat == DataFormat.ChannelsLast ? inputShape[3] : inputShape[1]);
        var (kernel, bias) = layer.GetWeights();
        layer.SetWeights(RandomTensors.Uniform(random, kernel.Length), options.UseBias ? RandomTensors.Uniform(random, bias!.Length) : ReadOnlySpan<float>.Empty);
        var expected = layer.Forward(x, inputShape);
        string path = Path.Combine(Path.GetTempPath(), $"layer-{Guid.NewGuid():N}.onnx");
        try
        {
            layer.SaveOnnx(path, inputShape);
            using var session = new InferenceSession(path);
            var input = new DenseTensor<float>(x, inputShape.ToArray());
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("input", input)]);
            var output = results.Single().AsTensor<float>();
            Assert.That(output.Dimensions.ToArray(), Is.EqualTo(layer.ComputeOutputShape(inputShape).ToArray()), "ONNX Runtime's output shape");
            Tolerance.AssertClose(output.ToArray(), Array.ConvertAll(expected, v => (double)v), $"ONNX Runtime against the layer ({options.Activation.Name})", 1e-5, 1e-4);

            // And back: the saved node, read by the library, is the same layer.
            using var again = Conv2DTranspose.FromOnnx(device, path, layer.Options.DataFormat == DataFormat.ChannelsFirst ? inputShape : ChannelsFirst(inputShape));
            Assert.That(again.GetWeights().Kernel, Is.EqualTo(layer.GetWeights().Kernel), "the kernel read back");
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>
    /// ONNX's own padding rules, with ONNX Runtime as the oracle: models written by hand with <c>auto_pad</c> (the odd row
    /// at the start with SAME_LOWER, at the end with SAME_UPPER) and with <c>output_shape</c>, read by the library and run
    /// by both. ONNX Runtime refuses an <c>output_shape</c> past the full result ("inconsistent with input spatial
    /// dimensions"), so those negative totals are checked against PyTorch in float64 instead (Golden/cases/pads.json).
    /// </summary>
    [TestCase("SAME_LOWER", null, 3, 2, TestName = "ONNX Runtime agrees: auto_pad SAME_LOWER, k3 s2")]
    [TestCase("SAME_UPPER", null, 3, 2, TestName = "ONNX Runtime agrees: auto_pad SAME_UPPER, k3 s2")]
    [TestCase("SAME_LOWER", null, 4, 3, TestName = "ONNX Runtime agrees: auto_pad SAME_LOWER, k4 s3")]
    [TestCase("VALID", null, 3, 2, TestName = "ONNX Runtime agrees: auto_pad VALID")]
    [TestCase("NOTSET", new long[] { 6, 7 }, 3, 2, TestName = "ONNX Runtime agrees: output_shape inside the full result")]
    [TestCase("SAME_LOWER", new long[] { 7, 5 }, 2, 2, TestName = "ONNX Runtime agrees: output_shape with SAME_LOWER")]
    [TestCase("SAME_UPPER", new long[] { 7, 5 }, 2, 2, TestName = "ONNX Runtime agrees: output_shape with SAME_UPPER")]
    public void ONNX_padding_rules_match_ONNX_Runtime(string autoPad, long[]? outputShape, int kernel, int stride)
    {
        var random = new Random(kernel * 31 + stride);
        long[] xShape = [2, 3, 4, 3];
        var weights = RandomTensors.Uniform(random, 3 * 2 * kernel * kernel);
        var bias = RandomTensors.Uniform(random, 2);
        var wTensor = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float };
        wTensor.FloatData.AddRange(weights);
        wTensor.Dims.AddRange([3, 2, kernel, kernel]);
        var bTensor = new TensorProto { Name = "B", DataType = (int)TensorProto.Types.DataType.Float };
        bTensor.FloatData.AddRange(bias);
        bTensor.Dims.Add(2);
        var attributes = new List<AttributeProto> { OnnxModelWriter.Ints("strides", stride, stride), OnnxModelWriter.Ints("kernel_shape", kernel, kernel) };
        if (autoPad != "NOTSET")
        {
            attributes.Add(new AttributeProto { Name = "auto_pad", Type = AttributeProto.Types.AttributeType.String, S = ByteString.CopyFromUtf8(autoPad) });
        }

        if (outputShape is not null)
        {
            attributes.Add(OnnxModelWriter.Ints("output_shape", outputShape));
        }

        var graph = new GraphProto { Name = "g" };
        graph.Node.Add(OnnxModelWriter.Node("ConvTranspose", "deconv", ["X", "W", "B"], ["Y"], [.. attributes]));
        graph.Initializer.Add(wTensor);
        graph.Initializer.Add(bTensor);
        graph.Input.Add(new ValueInfoProto { Name = "X", Type = FloatTensor(xShape) });
        graph.Output.Add(new ValueInfoProto { Name = "Y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float } } });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        string path = Path.Combine(Path.GetTempPath(), $"pads-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        try
        {
            var x = RandomTensors.Uniform(random, 2 * 3 * 4 * 3);
            using var session = new InferenceSession(path);
            using var results = session.Run([NamedOnnxValue.CreateFromTensor("X", new DenseTensor<float>(x, [2, 3, 4, 3]))]);
            var expected = results.Single().AsTensor<float>();

            var shape = new TensorShape(2, 3, 4, 3);
            using var layer = Conv2DTranspose.FromOnnx(TestAccelerators.Any(), path, shape);
            var y = layer.Forward(x, shape);
            Assert.That(layer.ComputeOutputShape(shape).ToArray(), Is.EqualTo(expected.Dimensions.ToArray()), $"{OnnxFormat.ConvTransposeNodes(path)[0]}: the output shape");
            Tolerance.AssertClose(y, Array.ConvertAll(expected.ToArray(), v => (double)v), $"ONNX Runtime, {autoPad}", 1e-5, 1e-5);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [TestCase("torch_convtranspose.onnx", "torch_convtranspose_output.npz", TestName = "A model PyTorch 1.13 exported (opset 13) matches PyTorch's output")]
    [TestCase("torch26_convtranspose.onnx", "torch26_convtranspose_output.npz", TestName = "A model PyTorch 2.6 exported (opset 17, groups, dilations) matches PyTorch's output")]
    public void A_model_PyTorch_exported_loads_and_matches_PyTorchs_output(string file, string output)
    {
        string model = Path.Combine(Files, file);
        var node = OnnxFormat.ConvTransposeNodes(model).Single();
        using var outputs = File.OpenRead(Path.Combine(Files, output));
        var arrays = NumPyFormat.ReadNpz(outputs, output);
        var x = arrays["x"];
        using var layer = Conv2DTranspose.FromOnnx(TestAccelerators.Any(), model, x.Shape);
        var y = layer.Forward(x.Values, x.Shape);
        Assert.That(layer.ComputeOutputShape(x.Shape), Is.EqualTo(arrays["y"].Shape), node.ToString());
        Tolerance.AssertClose(y, Array.ConvertAll(arrays["y"].Values, v => (double)v), $"PyTorch's output of {node}", 1e-5, 1e-5);
    }

    [Test]
    public void Nodes_are_listed_with_their_attributes_and_weights_beside_the_other_formats()
    {
        string model = Path.Combine(Files, "torch_convtranspose.onnx");
        var node = OnnxFormat.ConvTransposeNodes(model).Single();
        var tensors = WeightFiles.List(model);
        Assert.Multiple(() =>
        {
            Assert.That(node.SpatialRank, Is.EqualTo(2));
            Assert.That(node.WeightShape, Is.EqualTo(new long[] { 3, 4, 3, 2 }));
            Assert.That(node.Strides, Is.EqualTo(new long[] { 2, 3 }));
            Assert.That(node.Pads, Is.EqualTo(new long[] { 1, 0, 1, 0 }));
            Assert.That(node.OutputPadding, Is.EqualTo(new long[] { 1, 2 }));
            Assert.That(tensors.Select(t => t.Shape.Count), Is.EquivalentTo(new[] { 4, 1 }), string.Join("; ", tensors));
        });
    }

    [Test]
    public void Layers_ONNX_cannot_express_are_refused_before_anything_is_written()
    {
        using var layer = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(2, 3) { Pads = new Pads2D(-1, 0, 0, 0) });
        layer.Build(1);
        string path = Path.Combine(Path.GetTempPath(), $"refused-{Guid.NewGuid():N}.onnx");
        Assert.That(() => layer.SaveOnnx(path, new TensorShape(1, 4, 4, 1)), Throws.TypeOf<NotSupportedException>().With.Message.Contains("cannot be negative"));
        Assert.That(File.Exists(path), Is.False);
        using var custom = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(2, 3) { Activation = Activation.Custom("doubled", new Doubled()) });
        custom.Build(1);
        Assert.That(() => custom.SaveOnnx(path, new TensorShape(1, 4, 4, 1)), Throws.TypeOf<NotSupportedException>().With.Message.Contains("Doubled"));
        Assert.That(File.Exists(path), Is.False);
    }

    /// <summary>Hostile models: each an <see cref="InvalidDataException"/> naming the file (and tensor or node), the layer unchanged.</summary>
    public static IEnumerable<TestCaseData> HostileModels()
    {
        static ModelProto Good(out TensorProto w)
        {
            var model = ModelWith(new float[3 * 2 * 2 * 2], out w);
            return model;
        }

        yield return new TestCaseData((Func<string, byte[]>)(folder => Good(out _).ToByteArray()[..40]), "not an ONNX model").SetName("ONNX hostile: truncated");
        yield return new TestCaseData((Func<string, byte[]>)(folder => [0xFF, 0xFF, 0xFF, 0xFF, 0x0F, 1, 2, 3]), "not an ONNX model").SetName("ONNX hostile: garbage");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out var w);
            w.RawData = ByteString.CopyFrom(new byte[7]);
            return m.ToByteArray();
        }), "holds 7 bytes of raw_data").SetName("ONNX hostile: raw_data shorter than its dims");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out var w);
            w.Dims.Clear();
            w.Dims.AddRange([int.MaxValue, int.MaxValue, int.MaxValue, 2]);
            return m.ToByteArray();
        }), "overflows").SetName("ONNX hostile: dims whose product overflows");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out var w);
            w.Dims[0] = -3;
            return m.ToByteArray();
        }), "dimension 0 = -3").SetName("ONNX hostile: a negative dimension");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out var w);
            w.RawData = ByteString.Empty;
            w.DataLocation = TensorProto.Types.DataLocation.External;
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../../../../etc/passwd" });
            return m.ToByteArray();
        }), "leaves the model's folder").SetName("ONNX hostile: external data leaving the folder");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out var w);
            w.RawData = ByteString.Empty;
            w.DataLocation = TensorProto.Types.DataLocation.External;
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "/etc/passwd" });
            return m.ToByteArray();
        }), "relative path inside").SetName("ONNX hostile: external data at a rooted path");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out var w);
            w.DataType = (int)TensorProto.Types.DataType.String;
            return m.ToByteArray();
        }), "only float32").SetName("ONNX hostile: string weights");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            // Graphs nested in attributes far past protobuf's recursion limit.
            var g = new GraphProto();
            for (int i = 0; i < 200; i++)
            {
                var node = new NodeProto { OpType = "If" };
                node.Attribute.Add(new AttributeProto { Name = "then_branch", G = g });
                g = new GraphProto();
                g.Node.Add(node);
            }

            return new ModelProto { Graph = g }.ToByteArray();
        }), "not an ONNX model").SetName("ONNX hostile: deeply nested graphs");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out _);
            m.Graph.Node[0].Attribute.Add(OnnxModelWriter.Ints("strides", 1, 2, 3, 4, 5, 6, 7));
            m.Graph.Node[0].Attribute.RemoveAt(0);
            return m.ToByteArray();
        }), "attribute 'strides' has 7 values").SetName("ONNX hostile: strides of the wrong length");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out _);
            m.Graph.Node[0].Attribute.Add(OnnxModelWriter.Ints("dilations", 0, 1));
            return m.ToByteArray();
        }), "attribute 'dilations' is [0, 1]").SetName("ONNX hostile: a zero dilation");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            // A folder inside the model's folder that is a link to /etc: the path as written stays inside, its target not.
            Directory.CreateSymbolicLink(Path.Combine(folder, "linked"), "/etc");
            return External(Good(out var w), w, "linked/passwd").ToByteArray();
        }), "leaves the model's folder").SetName("ONNX hostile: external data through a linked folder");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            File.CreateSymbolicLink(Path.Combine(folder, "weights.bin"), "/etc/passwd");
            return External(Good(out var w), w, "weights.bin").ToByteArray();
        }), "leaves the model's folder").SetName("ONNX hostile: external data through a linked file");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            File.WriteAllBytes(Path.Combine(folder, "weights.bin"), new byte[96]);
            var m = External(Good(out var w), w, "weights.bin");
            w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "95" });
            return m.ToByteArray();
        }), "declares 95 bytes of external data but needs 96").SetName("ONNX hostile: external data of the wrong declared length");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            File.WriteAllBytes(Path.Combine(folder, "weights.bin"), new byte[96]);
            var m = External(Good(out var w), w, "weights.bin");
            w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "4" });
            return m.ToByteArray();
        }), "needs bytes 4 to 100 of weights.bin, which has 96").SetName("ONNX hostile: external data past the end of its file");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out var w);
            w.RawData = ByteString.Empty;
            w.FloatData.AddRange(new float[23]);
            return m.ToByteArray();
        }), "declares 24 elements but holds 23").SetName("ONNX hostile: float_data shorter than its dims");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out _);
            m.OpsetImport.Clear();
            return m.ToByteArray();
        }), "has no opset_import").SetName("ONNX hostile: no opset_import");
        yield return new TestCaseData((Func<string, byte[]>)(folder =>
        {
            var m = Good(out _);
            m.OpsetImport.Clear();
            m.OpsetImport.Add(new OperatorSetIdProto { Domain = "com.microsoft", Version = 1 });
            return m.ToByteArray();
        }), "ConvTranspose node 'deconv' is in ONNX's default domain").SetName("ONNX hostile: the default domain not imported");
    }

    /// <summary>
    /// W's declared shape (a graph input, so no reader of its data refuses it first) with dimensions past 32 bits: every
    /// one is checked in 64 bits, not truncated (2^32 + 2 filters once read as 2, 2^40 as 0).
    /// </summary>
    [TestCase(new long[] { 3, (1L << 32) + 2, 2, 2 }, 1, "dimension 1 = 4294967298")]
    [TestCase(new long[] { 3, 1L << 40, 2, 2 }, 1, "dimension 1 = 1099511627776")]
    [TestCase(new long[] { 3, 2, (1L << 32) + 2, 2 }, 1, "dimension 2 = 4294967298")]
    [TestCase(new long[] { 3, 0, 2, 2 }, 1, "dimension 1 = 0")]
    [TestCase(new long[] { 3, 1L << 30, 2, 2 }, 4, "with group 4 gives 4294967296 filters")]
    public void Weight_dimensions_past_32_bits_are_refused_naming_node_tensor_and_dimension(long[] dims, int group, string reason)
    {
        var model = ModelWith(new float[24], out var w);
        model.Graph.Initializer.Clear();
        model.Graph.Input.Add(new ValueInfoProto { Name = "W", Type = FloatTensor(dims) });
        if (group > 1)
        {
            model.Graph.Node[0].Attribute.Add(new AttributeProto { Name = "group", Type = AttributeProto.Types.AttributeType.Int, I = group });
        }

        string path = Path.Combine(Path.GetTempPath(), $"wide-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        try
        {
            var node = OnnxFormat.ConvTransposeNodes(path).Single();
            var ex = Assert.Throws<InvalidDataException>(() => node.ToOptions(new TensorShape(1, 3, 2, 2)))!;
            Assert.That(ex.Message, Does.Contain(path).And.Contain("node 'deconv'").And.Contain("W ('W')").And.Contain(reason));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_node_the_layer_refuses_is_named_with_its_attribute()
    {
        var model = ModelWith(new float[24], out _);
        var node = model.Graph.Node[0];
        node.Attribute.Clear();
        node.Attribute.Add(OnnxModelWriter.Ints("strides", 2, 2));
        node.Attribute.Add(OnnxModelWriter.Ints("output_padding", 2, 0));
        string path = Path.Combine(Path.GetTempPath(), $"refused-{Guid.NewGuid():N}.onnx");
        File.WriteAllBytes(path, model.ToByteArray());
        try
        {
            var read = OnnxFormat.ConvTransposeNodes(path).Single();
            var ex = Assert.Throws<ArgumentException>(() => read.ToOptions(new TensorShape(1, 3, 2, 2)))!;
            Assert.That(ex.Message, Does.Contain("ONNX node 'deconv' (output_padding)").And.Contain(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>2^28 elements (the most allowed) declared over 96 bytes: refused before anything of that size is allocated.</summary>
    [Test]
    public void A_huge_tensor_declared_over_little_data_is_refused_before_it_is_allocated()
    {
        string path = Path.Combine(Path.GetTempPath(), $"huge-{Guid.NewGuid():N}.pb");
        var tensor = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(new byte[96]) };
        tensor.Dims.AddRange([1 << 14, 1 << 12, 2, 2]);
        File.WriteAllBytes(path, tensor.ToByteArray());
        try
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            var ex = Assert.Throws<InvalidDataException>(() => OnnxFormat.ReadTensor(path, 1L << 28))!;
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Multiple(() =>
            {
                Assert.That(ex.Message, Does.Contain(path).And.Contain("holds 96 bytes of raw_data"));
                Assert.That(allocated, Is.LessThan(1L << 20), "nothing of the declared 1 GiB allocated");
            });
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>A huge repeated field (a million empty nodes) costs memory in proportion to the file, and is read or refused within the contract.</summary>
    [Test]
    public void A_million_empty_nodes_cost_memory_in_proportion_to_the_file()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-nodes").FullName;
        try
        {
            var model = ModelWith(new float[24], out _);
            for (int i = 0; i < 1_000_000; i++)
            {
                model.Graph.Node.Add(new NodeProto());
            }

            string path = Path.Combine(dir, "model.onnx");
            File.WriteAllBytes(path, model.ToByteArray());
            long size = new FileInfo(path).Length;
            long before = GC.GetAllocatedBytesForCurrentThread();
            var nodes = OnnxFormat.ConvTransposeNodes(path);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Multiple(() =>
            {
                Assert.That(nodes, Has.Count.EqualTo(1), "the one ConvTranspose among the empty nodes");
                Assert.That(allocated, Is.LessThan((64L << 20) + (200 * size)), $"{allocated} bytes for a file of {size}: the mutation test's bound");
            });
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Every encoding of the weights ONNX allows: raw and typed data in float32, float64, float16 and bfloat16.</summary>
    [TestCase((int)TensorProto.Types.DataType.Float, false)]
    [TestCase((int)TensorProto.Types.DataType.Float, true)]
    [TestCase((int)TensorProto.Types.DataType.Double, false)]
    [TestCase((int)TensorProto.Types.DataType.Double, true)]
    [TestCase((int)TensorProto.Types.DataType.Float16, false)]
    [TestCase((int)TensorProto.Types.DataType.Float16, true)]
    [TestCase((int)TensorProto.Types.DataType.Bfloat16, false)]
    [TestCase((int)TensorProto.Types.DataType.Bfloat16, true)]
    public void Weights_in_every_encoding_are_read(int dataType, bool raw)
    {
        var type = (TensorProto.Types.DataType)dataType;
        // Values exact in every encoding (multiples of 1/8 below 2), so each must come back as written.
        var weights = Enumerable.Range(0, 24).Select(i => (i - 12) / 8f).ToArray();
        var model = ModelWith(weights, out var w);
        w.RawData = ByteString.Empty;
        w.DataType = (int)type;
        switch (type, raw)
        {
            case (TensorProto.Types.DataType.Float, true):
                w.RawData = ByteString.CopyFrom(weights.SelectMany(BitConverter.GetBytes).ToArray());
                break;
            case (TensorProto.Types.DataType.Float, false):
                w.FloatData.AddRange(weights);
                break;
            case (TensorProto.Types.DataType.Double, true):
                w.RawData = ByteString.CopyFrom(weights.SelectMany(v => BitConverter.GetBytes((double)v)).ToArray());
                break;
            case (TensorProto.Types.DataType.Double, false):
                w.DoubleData.AddRange(weights.Select(v => (double)v));
                break;
            case (TensorProto.Types.DataType.Float16, _):
                var halves = weights.Select(v => BitConverter.HalfToUInt16Bits((Half)v)).ToArray();
                if (raw)
                {
                    w.RawData = ByteString.CopyFrom(halves.SelectMany(BitConverter.GetBytes).ToArray());
                }
                else
                {
                    w.Int32Data.AddRange(halves.Select(h => (int)h));
                }

                break;
            default:
                var brains = weights.Select(v => (ushort)(BitConverter.SingleToUInt32Bits(v) >> 16)).ToArray();
                if (raw)
                {
                    w.RawData = ByteString.CopyFrom(brains.SelectMany(BitConverter.GetBytes).ToArray());
                }
                else
                {
                    w.Int32Data.AddRange(brains.Select(b => (int)b));
                }

                break;
        }

        string dir = Directory.CreateTempSubdirectory("onnx-encodings").FullName;
        try
        {
            string path = Path.Combine(dir, "model.onnx");
            File.WriteAllBytes(path, model.ToByteArray());
            using var layer = Conv2DTranspose.FromOnnx(TestAccelerators.Any(), path, new TensorShape(1, 3, 2, 2));
            Assert.That(layer.GetWeights().Kernel.Order(), Is.EqualTo(weights.Order()), $"{type} {(raw ? "raw_data" : "typed data")}");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>Makes <paramref name="w"/> external data at <paramref name="location"/> (no offset or length yet).</summary>
    private static ModelProto External(ModelProto model, TensorProto w, string location)
    {
        w.RawData = ByteString.Empty;
        w.DataLocation = TensorProto.Types.DataLocation.External;
        w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        return model;
    }

    [TestCaseSource(nameof(HostileModels))]
    public void A_hostile_model_is_refused_naming_the_file(Func<string, byte[]> make, string reason)
    {
        string dir = Directory.CreateTempSubdirectory("onnx-hostile").FullName;
        string path = Path.Combine(dir, "model.onnx");
        File.WriteAllBytes(path, make(dir));
        using var layer = new Conv2DTranspose(TestAccelerators.Any(), new Conv2DTransposeOptions(2, 2) { DataFormat = DataFormat.ChannelsFirst, UseBias = false });
        layer.Build(3);
        var before = layer.GetWeights();
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() =>
            {
                layer.LoadWeights(path);
                foreach (var node in OnnxFormat.ConvTransposeNodes(path))
                {
                    _ = node.ToOptions(new TensorShape(1, 3, 2, 2));
                }
            })!;
            Assert.That(ex.Message, Does.Contain(path).And.Contain(reason));
            Assert.That(layer.GetWeights().Kernel, Is.EqualTo(before.Kernel), "the layer is unchanged");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void External_data_inside_the_folder_is_read()
    {
        string dir = Directory.CreateTempSubdirectory("onnx-external").FullName;
        try
        {
            var weights = Enumerable.Range(0, 24).Select(i => i / 10f).ToArray();
            var model = ModelWith(weights, out var w);
            var bytes = new byte[8 + (weights.Length * 4)];
            Buffer.BlockCopy(weights, 0, bytes, 8, weights.Length * 4);
            File.WriteAllBytes(Path.Combine(dir, "weights.bin"), bytes);
            w.RawData = ByteString.Empty;
            w.DataLocation = TensorProto.Types.DataLocation.External;
            w.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
            w.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "8" });
            w.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "96" });
            string path = Path.Combine(dir, "model.onnx");
            File.WriteAllBytes(path, model.ToByteArray());
            using var layer = Conv2DTranspose.FromOnnx(TestAccelerators.Any(), path, new TensorShape(1, 3, 2, 2));
            Assert.That(layer.GetWeights().Kernel.Order(), Is.EqualTo(weights.Order()), "every value read, in Keras's layout");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>A one-node model: ConvTranspose of X [1, 3, 2, 2] by the initializer W [3, 2, 2, 2], no bias.</summary>
    private static ModelProto ModelWith(float[] weights, out TensorProto w)
    {
        var bytes = new byte[weights.Length * 4];
        Buffer.BlockCopy(weights, 0, bytes, 0, bytes.Length);
        w = new TensorProto { Name = "W", DataType = (int)TensorProto.Types.DataType.Float, RawData = ByteString.CopyFrom(bytes) };
        w.Dims.AddRange([3, 2, 2, 2]);
        var graph = new GraphProto { Name = "g" };
        graph.Node.Add(OnnxModelWriter.Node("ConvTranspose", "deconv", ["X", "W"], ["Y"], OnnxModelWriter.Ints("strides", 1, 1)));
        graph.Initializer.Add(w);
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = string.Empty, Version = 17 });
        return model;
    }

    private static HashSet<string> OnnxFormat_Initializers(string model) => [.. WeightFiles.List(model).Select(t => t.Name)];

    /// <summary>ONNX's W <c>[C, F/g, k...]</c> as the layer's Keras kernel <c>[kh, kw, F/g, C]</c> (a 1-D kernel as height 1).</summary>
    private static float[] KerasKernel(NumPyArray w)
    {
        int c = w.Shape[0], f = w.Shape[1], kh = w.Shape.Rank == 3 ? 1 : w.Shape[2], kw = w.Shape[w.Shape.Rank - 1];
        var k = new float[w.Values.Length];
        for (int ch = 0; ch < c; ch++)
        {
            for (int fi = 0; fi < f; fi++)
            {
                for (int a = 0; a < kh; a++)
                {
                    for (int b = 0; b < kw; b++)
                    {
                        k[(((a * kw) + b) * f + fi) * c + ch] = w.Values[(((ch * f) + fi) * kh + a) * kw + b];
                    }
                }
            }
        }

        return k;
    }

    private static TypeProto FloatTensor(long[] shape)
    {
        var dims = new TensorShapeProto();
        dims.Dim.AddRange(shape.Select(d => new TensorShapeProto.Types.Dimension { DimValue = d }));
        return new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = dims } };
    }

    private static TensorShape ChannelsFirst(TensorShape nhwc) => new(nhwc[0], nhwc[3], nhwc[1], nhwc[2]);

    /// <summary>A custom activation ONNX has no operator for.</summary>
    private readonly struct Doubled : IActivationFunction
    {
        public float Apply(float x) => 2 * x;

        public float Derivative(float x, float y) => 2;
    }
}
