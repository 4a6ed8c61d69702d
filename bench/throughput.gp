# Draws docs/benchmarks-throughput.svg from the table holdfast_bench writes: one block per
# durability and payload on RocksDB (threads, Holdfast, raw fenced transaction, raw WriteBatch,
# SQLite), then, when the PostgreSQL cases ran, one block for PostgreSQL (threads, Holdfast,
# raw libpq with the same records, raw libpq CAS UPDATE).
# Usage: gnuplot -e "data='build-bench/benchmarks-throughput.dat'; out='docs/benchmarks-throughput.svg'" bench/throughput.gp
postgres = int(system("grep -c '^# PostgreSQL' '" . data . "' || true"))
set terminal svg size 1000,(postgres > 0 ? 1140 : 760) dynamic font "sans,11"
set output out
set multiplot layout (postgres > 0 ? 3 : 2),2 \
    title "Saves per second against threads (higher is better; same run, same disk)"
set logscale x 2
set logscale y
set xtics (1, 4, 16, 32)
set xlabel "threads"
set ylabel "saves/s"
set key top left font ",9"
set grid
titles = "'synced, 1 KiB' 'synced, 16 KiB' 'unsynced, 1 KiB' 'unsynced, 16 KiB'"
do for [i=0:3] {
  set title word(titles, i + 1)
  plot data index i using 1:2 with linespoints lw 2 title "Holdfast", \
       data index i using 1:3 with linespoints title "raw RocksDB fenced txn", \
       data index i using 1:4 with linespoints title "raw RocksDB WriteBatch", \
       data index i using 1:5 with linespoints title "SQLite WAL"
}
if (postgres > 0) {
  set title "PostgreSQL, synchronous_commit on, 1 KiB" noenhanced
  set xtics (1, 4, 16)
  set xrange [0.8:20]
  set key bottom right
  plot data index 4 using 1:2 with linespoints lw 2 title "Holdfast on PostgreSQL", \
       data index 4 using 1:3 with linespoints title "raw libpq, same records", \
       data index 4 using 1:4 with linespoints title "raw libpq CAS UPDATE"
}
unset multiplot
