using System.Buffers;

namespace ZsCache.Cache;

/// <summary>
/// Where a read puts the decoded value: a fresh array (<c>Get</c>) or the caller's buffer
/// writer (<c>TryGet</c>), so both share one read path without an intermediate copy.
/// </summary>
internal interface IValueSink
{
    Span<byte> GetSpan(int length);

    void Commit(int length);
}

internal struct ArraySink : IValueSink
{
    public byte[]? Result;

    public Span<byte> GetSpan(int length) => Result = length == 0 ? [] : new byte[length];

    public readonly void Commit(int length)
    {
    }
}

internal readonly struct WriterSink(IBufferWriter<byte> writer) : IValueSink
{
    public Span<byte> GetSpan(int length) => writer.GetSpan(length)[..length];

    public void Commit(int length) => writer.Advance(length);
}
