using System;
using System.IO;
using ILGpuDeconv.Conformance;
using NUnit.Framework;

namespace ILGpuDeconv.Tests.Golden;

/// <summary>Malformed conformance files are refused with an <see cref="InvalidDataException"/> naming the file, the case and the field.</summary>
public sealed class ConformanceFileTests
{
    private const string GoodCase = """
        {"id": 7, "config": {"filters": 1, "kernel_size": 1}, "input_shape": [1, 1, 1, 1], "kernel_shape": [1, 1, 1, 1],
         "output_shape": [1, 1, 1, 1], "input": [2], "kernel": [3], "bias": [0], "output": [6]}
        """;

    [TestCase("[" + GoodCase + ", {", "not valid JSON", TestName = "Malformed JSON")]
    [TestCase("{\"cases\": 1}", "JSON array", TestName = "Not an array")]
    [TestCase("[" + GoodCase + ", {\"config\": {\"filters\": 1}}]", "index 1", TestName = "A missing field")]
    [TestCase("[{\"config\": {\"filters\": 1, \"kernel_size\": [2]}, \"input_shape\": [1,1,1,1], \"kernel_shape\": [2,2,1,1], \"output_shape\": [1,2,2,1], \"input\": [1], \"kernel\": [1,1,1,1], \"output\": [1,1,1,1]}]", "index 0", TestName = "A kernel_size pair that is too short")]
    [TestCase("[{\"config\": {\"filters\": 1, \"kernel_size\": 1}, \"input_shape\": [1,2,2,1], \"kernel_shape\": [1,1,1,1], \"output_shape\": [1,2,2,1], \"input\": [1, 2], \"kernel\": [1], \"output\": [1,2,3,4]}]", "field 'input' holds 2 values", TestName = "An input array shorter than its shape")]
    [TestCase("[{\"config\": {\"filters\": 1, \"kernel_size\": 1}, \"input_shape\": [1,1,1,1], \"kernel_shape\": [1,1,1,1], \"output_shape\": [1,1,1,1], \"input\": [1], \"kernel\": [1], \"output\": [1], \"grad_kernel\": [1, 2]}]", "field 'grad_kernel'", TestName = "A gradient of the wrong length")]
    public void Malformed_files_are_refused_naming_the_place(string json, string fragment)
    {
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-cases-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        try
        {
            var ex = Assert.Throws<InvalidDataException>(() => ConformanceCase.Load(path));
            Assert.That(ex!.Message, Does.Contain(path).And.Contain(fragment));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void A_good_case_loads()
    {
        string path = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-cases-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, "[" + GoodCase + "]");
        try
        {
            var c = ConformanceCase.Load(path)[0];
            Assert.That((c.Id, c.Output[0]), Is.EqualTo((7, 6f)));
        }
        finally
        {
            File.Delete(path);
        }
    }
}
