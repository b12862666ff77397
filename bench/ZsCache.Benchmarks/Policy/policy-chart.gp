# The chart of docs/writeback-policy.md, drawn from the data the policy study writes.
#   gnuplot -e "data='DIR/policy-chart.dat'; out='docs/writeback-policy.png'" bench/ZsCache.Benchmarks/Policy/policy-chart.gp
# Columns of policy-chart.dat (see PolicyStudy.FormatChartData): 1 workload, then per metric one
# column per cache in the order zspage-lru, entry-clock, memory:
#   pool% 2-4, hit% 5-7, Redis reads/1k 8-10, Redis writes/1k 11-13, fault-ins/1k 14-16,
#   MiB written 17-19, p99 µs 20-22.
if (!exists("data")) data = 'policy-chart.dat'
if (!exists("out")) out = 'writeback-policy.png'

set terminal pngcairo size 1500,560 font "sans,11"
set output out
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set grid ytics
set key outside below horizontal
set xtics nomirror
set multiplot layout 1,3 title "Writeback victim policy: same traces, same memory (MaxPoolBytes = SizeLimit)"

set title "Reads served from memory (%, axis from 50)"
set yrange [50:100]
plot data using 2:xtic(1) title "ZsCache ZspageLru" lc rgb "#d95f02", \
     '' using 3 title "ZsCache EntryClock" lc rgb "#1b9e77", \
     '' using 4 title "MemoryDistributedCache" lc rgb "#7570b3"

set title "Fault-ins from Redis per 1,000 requests"
set yrange [0:*]
plot data using 14:xtic(1) title "ZspageLru" lc rgb "#d95f02", \
     '' using 15 title "EntryClock" lc rgb "#1b9e77"

set title "Redis writes (objects) per 1,000 requests"
plot data using 11:xtic(1) title "ZspageLru" lc rgb "#d95f02", \
     '' using 12 title "EntryClock" lc rgb "#1b9e77"

unset multiplot
