# Draws docs/benchmarks-throughput.svg from the table holdfast_bench writes (one block per
# durability and payload: threads, Holdfast, raw fenced transaction, raw WriteBatch, SQLite).
# Usage: gnuplot -e "data='build-bench/benchmarks-throughput.dat'; out='docs/benchmarks-throughput.svg'" bench/throughput.gp
set terminal svg size 1000,760 dynamic font "sans,11"
set output out
set multiplot layout 2,2 title "Saves per second against threads (higher is better; same run, same disk)"
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
unset multiplot
