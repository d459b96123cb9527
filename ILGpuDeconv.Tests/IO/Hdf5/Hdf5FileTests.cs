using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Linq;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.IO.Hdf5;

/// <summary>
/// The project's HDF5 reader on files h5py wrote (<c>IO/files/make_hdf5_files.py</c>): the newest format (superblock
/// 3, version 2 headers, link messages, a user block) read as h5py reads it, value for value; what Keras never writes
/// (chunked data, links in a fractal heap) refused naming the file; a cycle of hard links ended. Keras's own layouts
/// (h5py's default format) and PureHDF's output are covered by the Keras tests.
/// </summary>
public sealed class Hdf5FileTests
{
    private static string File(string name) => Path.Combine(AppContext.BaseDirectory, "IO", "files", name);

    [Test]
    public void The_newest_format_reads_as_h5py_reads_it()
    {
        using var stream = System.IO.File.OpenRead(File("hdf5_latest.npz"));
        var expected = NumPyFormat.ReadNpz(stream, "hdf5_latest.npz");
        using var file = Hdf5File.Open(System.IO.File.OpenRead(File("hdf5_latest.h5")), "hdf5_latest.h5");
        var read = new Dictionary<string, (float[] Values, ulong[] Dims)>(StringComparer.Ordinal);
        Collect(file.Root, string.Empty, read);
        Assert.Multiple(() =>
        {
            Assert.That(read.Keys, Is.EquivalentTo(expected.Keys.Select(k => k.Replace('.', '/'))), "float32 and float64 datasets only: no int64 counter, no float16, nothing twice through the soft link");
            foreach (var (name, array) in expected)
            {
                var (values, dims) = read[name.Replace('.', '/')];
                Assert.That(values, Is.EqualTo(array.Values), name);
                Assert.That(dims.Length == 0 ? [1] : dims.Select(d => (int)d), Is.EqualTo(array.Shape.Dimensions), name); // the scalar saved as [1]
            }
        });
    }

    [Test]
    public void Keras_names_come_from_the_newest_format_too() =>
        Assert.That(KerasWeightsFormat.List(File("hdf5_latest.h5")).Select(t => $"{t.Name} {t.Dtype} [{string.Join(", ", t.Shape)}]"), Is.EqualTo(new[]
        {
            "conv2d_transpose/kernel float32 [3, 2, 4, 3]",
            "conv2d_transpose/bias float64 [4]",
            "dense/kernel float32 [2, 5]",
            "dense/bias float32 [3]",
        }));

    [Test]
    public void Chunked_data_is_listed_but_refused_when_read()
    {
        string path = File("hdf5_chunked.h5");
        Assert.Multiple(() =>
        {
            Assert.That(KerasWeightsFormat.List(path).Single().Shape, Is.EqualTo(new[] { 3, 3, 2, 2 }));
            Assert.That(() => KerasWeightsFormat.Read(path), Throws.TypeOf<InvalidDataException>().With.Message.Contains(path).And.Message.Contains("chunks"));
        });
    }

    [Test]
    public void Links_in_a_fractal_heap_are_refused_naming_the_file_and_group() =>
        Assert.That(() => KerasWeightsFormat.List(File("hdf5_dense.h5")), Throws.TypeOf<InvalidDataException>().With.Message.Contains("hdf5_dense.h5").And.Message.Contains("'/many'").And.Message.Contains("fractal heap"));

    [Test]
    public void A_group_that_contains_itself_is_refused_at_once()
    {
        var clock = Stopwatch.StartNew();
        Assert.That(() => KerasWeightsFormat.List(File("hdf5_cycle.h5")), Throws.TypeOf<InvalidDataException>().With.Message.Contains("hdf5_cycle.h5").And.Message.Contains("nest deeper"));
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(5)));
    }

    [Test]
    public void Work_is_bounded_by_the_file_length_however_links_repeat()
    {
        // The cycle's group listed again and again from outside the depth limit: each listing is charged, so the
        // budget of a 3 KB file runs out long before the paths (2 links per level) do.
        using var file = Hdf5File.Open(System.IO.File.OpenRead(File("hdf5_cycle.h5")), "hdf5_cycle.h5");
        var loop = (Hdf5Group)((Hdf5Group)file.Root.Child("model_weights")!).Child("loop")!;
        Assert.That(() => Repeat(loop, 0), Throws.TypeOf<InvalidDataException>().With.Message.Contains("more structures than a file of"));
    }

    private static void Repeat(Hdf5Group group, int depth)
    {
        foreach (var (_, node) in group.Children())
        {
            if (node is Hdf5Group inner && depth < 40)
            {
                Repeat(inner, depth + 1);
            }
        }
    }

    private static void Collect(Hdf5Group group, string prefix, Dictionary<string, (float[], ulong[])> read)
    {
        foreach (var (name, node) in group.Children())
        {
            string path = prefix.Length == 0 ? name : $"{prefix}/{name}";
            if (node is Hdf5Group inner)
            {
                Collect(inner, path, read);
            }
            else if (node is Hdf5Dataset { FloatSize: > 0 } dataset)
            {
                read.Add(path, (dataset.ReadFloats(), dataset.Dimensions));
            }
        }
    }
}
