namespace ZsCache.Pool;

/// <summary>What one <see cref="ZsPool.Compact"/> achieved.</summary>
/// <param name="PagesFreed">4 KiB pages given back by freeing emptied zspages.</param>
/// <param name="ObjectsMoved">Objects copied from a sparse zspage into a denser one.</param>
internal readonly record struct ZsCompactionResult(int PagesFreed, long ObjectsMoved);
