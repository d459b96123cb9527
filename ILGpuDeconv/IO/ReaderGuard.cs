using System;
using System.IO;

namespace ILGpuDeconv;

/// <summary>
/// The readers' contract at their boundary: any failure on malformed input, whichever library or line it comes from
/// (PureHDF's, System.IO.Compression's, System.Text.Json's), is an <see cref="InvalidDataException"/> naming the file.
/// A missing or unreadable file stays what it is (not found, access denied), and running out of memory is not hidden.
/// </summary>
internal static class ReaderGuard
{
    /// <summary>Runs a read, translating failures on malformed input into <see cref="InvalidDataException"/>s that name <paramref name="source"/>.</summary>
    public static T Run<T>(string source, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (Malformed(e, source))
        {
            throw new InvalidDataException($"{source}: malformed: {e.GetType().Name}: {e.Message}", e);
        }
    }

    /// <summary>Whether a failure is one of malformed input that still has to be given the contract's form.</summary>
    private static bool Malformed(Exception e, string source) => e switch
    {
        InvalidDataException when e.Message.Contains(source, StringComparison.Ordinal) => false, // already the contract's
        OutOfMemoryException or InsufficientMemoryException or OperationCanceledException => false,
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or PathTooLongException => false,
        ArgumentNullException => false, // a caller's null, not the file's fault
        ObjectDisposedException => false, // the layer or device a load writes to went away, not the file's fault
        _ => true,
    };
}
