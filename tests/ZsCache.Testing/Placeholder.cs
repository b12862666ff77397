namespace ZsCache.Testing;

/// <summary>Marks the assembly; fixtures live beside it.</summary>
public static class TestingAssembly
{
}
