using System;
using System.IO;

namespace ILGpuDeconv;

/// <summary>A view of the caller's stream that leaves it open when the reader is done with it; and the bounded copy of a stream into memory.</summary>
internal sealed class NonClosingStream(Stream inner) : Stream
{
    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => inner.CanSeek;

    public override bool CanWrite => false;

    public override long Length => inner.Length;

    public override long Position { get => inner.Position; set => inner.Position = value; }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override int Read(Span<byte> buffer) => inner.Read(buffer);

    public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>
    /// The rest of <paramref name="source"/> copied into memory, refused with <paramref name="tooLong"/>'s exception as
    /// soon as it passes <paramref name="most"/> bytes (a deflated entry or a download is not trusted to stop where it
    /// says); positioned at its start.
    /// </summary>
    internal static MemoryStream CopyBounded(Stream source, long most, Func<Exception> tooLong)
    {
        var copy = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = source.Read(chunk, 0, chunk.Length)) > 0)
        {
            if (copy.Length + read > most)
            {
                copy.Dispose();
                throw tooLong();
            }

            copy.Write(chunk, 0, read);
        }

        copy.Position = 0;
        return copy;
    }
}
