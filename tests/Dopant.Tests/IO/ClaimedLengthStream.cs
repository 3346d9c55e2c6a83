namespace Dopant.Tests.IO;

/// <summary>
/// A seekable stream that claims a huge length but only holds a short prefix followed by zeros, to show that
/// sizes read from a file are checked before anything of that size is allocated.
/// </summary>
internal sealed class ClaimedLengthStream(byte[] prefix, long claimedLength) : Stream
{
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => claimedLength;
    public override long Position { get => _position; set => _position = value; }

    public override int Read(byte[] buffer, int offset, int count)
    {
        int read = (int)Math.Min(count, Math.Max(0, claimedLength - _position));
        for (int i = 0; i < read; i++)
            buffer[offset + i] = _position + i < prefix.Length ? prefix[_position + i] : (byte)0;
        _position += read;
        return read;
    }

    public override void Flush() { }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
