using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using SharpFuzz;

namespace ILGpuDeconv.Fuzz;

/// <summary>
/// <c>ILGpuDeconv.Fuzz READER</c> under AFL++ (SharpFuzz's out-of-process mode: AFL feeds each input on stdin), or
/// <c>ILGpuDeconv.Fuzz READER --replay DIR</c>: every file of DIR through the reader, in this process. A reader may
/// return or throw <see cref="InvalidDataException"/>; anything else is a crash, which AFL records.
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        if (args.Length < 1 || !Targets.All.TryGetValue(args[0], out var target))
        {
            Console.Error.WriteLine($"usage: ILGpuDeconv.Fuzz READER [--replay DIR]; READER: {string.Join(", ", Targets.All.Keys)}");
            return 2;
        }

        if (args.Length == 3 && args[1] == "--replay")
        {
            return Replay(target, args[2]);
        }

        // The inputs go to a file of the reader's extension, as users' files come (the path readers take a path).
        string work = Path.Combine(Path.GetTempPath(), $"ilgpudeconv-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(work);
        Fuzzer.OutOfProcess.Run(stream => Contract(() => target.Run(stream, work)));
        return 0;
    }

    /// <summary>Runs every file of a folder; returns 1 if any broke the contract.</summary>
    private static int Replay(Target target, string folder)
    {
        string work = Directory.CreateTempSubdirectory("ilgpudeconv-replay").FullName;
        int failures = 0, files = 0;
        foreach (string file in Directory.GetFiles(folder).Order(StringComparer.Ordinal))
        {
            files++;
            try
            {
                Contract(() =>
                {
                    using var stream = File.OpenRead(file);
                    target.Run(stream, work);
                });
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Out of memory included: under tools/fuzz/run.sh's heap limit that is an input allocating without bound.
                failures++;
                Console.WriteLine($"{file}: {e}");
            }
        }

        Directory.Delete(work, recursive: true);
        Console.WriteLine($"{files} inputs, {failures} outside the contract");
        return failures == 0 ? 0 : 1;
    }

    /// <summary>The readers' contract: success, or an InvalidDataException.</summary>
    private static void Contract(Action read)
    {
        try
        {
            read();
        }
        catch (InvalidDataException)
        {
        }
    }
}
