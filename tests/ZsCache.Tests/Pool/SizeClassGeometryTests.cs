using ZsCache.Pool;
using G = ZsCache.Pool.ZsSizeClassGeometry;

namespace ZsCache.Tests.Pool;

public class SizeClassGeometryTests
{
    [Fact]
    public void Class_sizes_step_by_sixteen_from_thirty_two_to_sixteen_KiB()
    {
        Assert.Equal(16, G.ClassDelta);
        Assert.Equal(32, G.SizeOfIndex(0));
        Assert.Equal(48, G.SizeOfIndex(1));
        Assert.Equal(16 * 1024, G.SizeOfIndex(G.ClassCount - 1));
        Assert.Equal(1023, G.ClassCount);
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(32, 0)]
    [InlineData(33, 1)]
    [InlineData(48, 1)]
    [InlineData(49, 2)]
    [InlineData(16384, 1022)]
    public void Size_maps_to_the_smallest_class_index_that_holds_it(int size, int index) =>
        Assert.Equal(index, G.IndexOfSize(size));

    [Theory]
    // Powers of two tile pages exactly with the fewest pages.
    [InlineData(32, 1)]
    [InlineData(4096, 1)]
    [InlineData(16384, 4)]
    // 3 KiB: 3 pages hold 4 objects with no waste.
    [InlineData(3072, 3)]
    // 5 KiB: 5 pages hold 4 objects with no waste (a page-granular path would waste 37.5%).
    [InlineData(5120, 5)]
    // 208 (the kernel commit's example): waste 144, 80, 16 for 1..3 pages; 13 pages waste 0.
    [InlineData(208, 13)]
    public void Chain_size_is_the_page_count_that_wastes_least(int classSize, int pages) =>
        Assert.Equal(pages, G.ChainSize(classSize));

    [Fact]
    public void Chain_size_waste_is_minimal_among_all_allowed_chain_lengths()
    {
        for (int i = 0; i < G.ClassCount; i++)
        {
            int size = G.SizeOfIndex(i);
            int chosen = G.ChainSize(size);
            int chosenWaste = chosen * G.PageSize % size;
            for (int pages = (size + G.PageSize - 1) / G.PageSize; pages <= G.MaxPagesPerZspage; pages++)
            {
                int waste = pages * G.PageSize % size;
                Assert.True(waste > chosenWaste || (waste == chosenWaste && pages >= chosen), $"size {size}: {pages} pages waste {waste} < {chosenWaste}");
            }
        }
    }

    [Fact]
    public void Classes_of_equal_geometry_are_merged_into_the_larger_one()
    {
        IReadOnlyList<G.ClassGeometry> table = G.ByIndex;
        for (int i = 0; i < table.Count; i++)
        {
            G.ClassGeometry cls = table[i];
            int size = G.SizeOfIndex(i);
            int pages = G.ChainSize(size);
            Assert.True(cls.Size >= size, "a class holds every size mapped to it");
            Assert.Equal(pages, cls.PagesPerZspage);
            Assert.Equal(pages * G.PageSize / size, cls.ObjsPerZspage);
            if (i + 1 < table.Count && table[i + 1] != cls)
            {
                // Not merged with the next larger class: their geometry differs.
                Assert.False(table[i + 1].PagesPerZspage == cls.PagesPerZspage && table[i + 1].ObjsPerZspage == cls.ObjsPerZspage);
            }
        }

        Assert.True(G.Distinct.Count < G.ClassCount, "some classes merge");
        Assert.All(G.Distinct, c => Assert.True(c.ObjsPerZspage < (1 << G.SlotBits)));
    }

    [Fact]
    public void Huge_classes_hold_one_object_per_zspage_and_start_just_below_a_page()
    {
        Assert.Contains(G.Distinct, c => c.IsHuge && c.Size == 4096 && c.PagesPerZspage == 1);
        Assert.Contains(G.Distinct, c => c.IsHuge && c.Size == 16384 && c.PagesPerZspage == 4);
        Assert.True(G.HugeClassSize > 3584 && G.HugeClassSize <= 4096, $"huge starts at {G.HugeClassSize}");
        Assert.True(G.ByIndex[G.IndexOfSize(G.HugeClassSize)].IsHuge);
        Assert.False(G.ByIndex[G.IndexOfSize(G.HugeClassSize - 1)].IsHuge);
    }

    [Fact]
    public void Memory_per_object_is_within_eight_percent_of_its_size_from_256_bytes_up()
    {
        // Rounding to a 16-byte class plus the zspage tail and class merging: at most 7.3%
        // (11457 B in the 12 KiB class) for sizes from 256 B; small sizes pay more, as in the kernel.
        for (int size = 256; size <= G.MaxClassSize; size++)
        {
            G.ClassGeometry cls = G.ByIndex[G.IndexOfSize(size)];
            double perObject = (double)cls.PagesPerZspage * G.PageSize / cls.ObjsPerZspage;
            Assert.True(perObject / size <= 1.08, $"size {size}: {perObject:F0} bytes per object");
        }
    }
}
