using System.Buffers;

namespace ZsCache.Testing.Conformance;

/// <summary>Builds multi-segment <see cref="ReadOnlySequence{T}"/>s for buffer round-trip tests.</summary>
public static class Segments
{
    /// <summary>
    /// Splits <paramref name="data"/> into segments cut at the given lengths (the rest, if any,
    /// is the last segment). Each segment is a copy, so no two share an array.
    /// </summary>
    public static ReadOnlySequence<byte> Split(ReadOnlySpan<byte> data, params int[] lengths)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        var cuts = new List<byte[]>();
        var offset = 0;
        foreach (var length in lengths)
        {
            var take = Math.Min(length, data.Length - offset);
            cuts.Add(data.Slice(offset, take).ToArray());
            offset += take;
        }

        if (offset < data.Length || cuts.Count == 0)
        {
            cuts.Add(data[offset..].ToArray());
        }

        var first = new Segment(cuts[0], 0);
        var last = first;
        for (var i = 1; i < cuts.Count; i++)
        {
            last = last.Append(cuts[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
