using System.Globalization;

namespace ZsCache.Pool;

/// <summary>
/// An opaque reference to one object in a <see cref="ZsPool"/>: the zsmalloc handle.
/// It never names memory directly; it names an entry of the pool's handle table, which
/// names the object's current zspage and slot. Compaction can therefore move the object
/// without the holder noticing, and a stale handle (its object freed) is caught by the
/// generation it carries instead of reading whatever now lives in the old slot.
/// </summary>
/// <remarks>
/// Layout of <see cref="Value"/>: bits 0..31 hold the handle-table index plus one (so a real
/// handle is never 0 and 0 can mean null), bits 32..63 hold the generation the table entry
/// had when the object was allocated.
/// </remarks>
internal readonly struct ZsHandle : IEquatable<ZsHandle>
{
    /// <summary>Wraps a raw handle value, e.g. one read back from an index.</summary>
    /// <param name="value">The raw value; 0 is the null handle.</param>
    public ZsHandle(ulong value) => Value = value;

    /// <summary>The null handle (value 0).</summary>
    public static ZsHandle Null => default;

    /// <summary>The raw 64-bit value, suitable for storing in an index.</summary>
    public ulong Value { get; }

    /// <summary>True for the null handle.</summary>
    public bool IsNull => Value == 0;

    /// <summary>The handle-table index; -1 for the null handle.</summary>
    internal int Index => (int)((uint)Value - 1u);

    /// <summary>The generation of the table entry this handle was issued for.</summary>
    internal uint Generation => (uint)(Value >> 32);

    /// <summary>Builds a handle from a table index and the entry's generation.</summary>
    internal static ZsHandle Create(int index, uint generation)
    {
        System.Diagnostics.Debug.Assert(index >= 0, "handle-table indices are non-negative");
        return new ZsHandle(((ulong)generation << 32) | ((uint)index + 1u));
    }

    /// <inheritdoc />
    public bool Equals(ZsHandle other) => Value == other.Value;

    /// <inheritdoc />
    public override bool Equals(object? obj) => obj is ZsHandle other && Equals(other);

    /// <inheritdoc />
    public override int GetHashCode() => Value.GetHashCode();

    /// <summary>Equality of the raw values.</summary>
    public static bool operator ==(ZsHandle left, ZsHandle right) => left.Equals(right);

    /// <summary>Inequality of the raw values.</summary>
    public static bool operator !=(ZsHandle left, ZsHandle right) => !left.Equals(right);

    /// <summary>A readable form: index and generation.</summary>
    public override string ToString() => IsNull
        ? "ZsHandle(null)"
        : string.Create(CultureInfo.InvariantCulture, $"ZsHandle(#{Index} gen {Generation})");
}
