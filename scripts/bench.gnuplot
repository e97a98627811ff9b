# SPDX-License-Identifier: GPL-2.0
# Plots of a scripts/bench run, made in its output directory from the
# .dat files scripts/bench-report wrote there.
set terminal pngcairo size 900,560 font ",10"
set grid
set datafile columnheaders
set termoption noenhanced
set key outside right top
set style data linespoints

set output "w2.png"
set title "W2: alloc N then put N (LIFO), one CPU"
set logscale x 2
set xlabel "N (buffers per batch)"
set ylabel "ns per alloc+put (median)"
plot for [i=2:10] "w2.dat" using 1:i title columnhead(i)

set output "w2s.png"
set title "W2s: alloc N then put N in shuffled order, one CPU"
plot for [i=2:10] "w2s.dat" using 1:i title columnhead(i)

set output "w2bh.png"
set title "W2bh: W2 with bottom halves off, as a NAPI poll, page_pool among the peers"
plot for [i=2:6] "w2bh.dat" using 1:i title columnhead(i)

unset logscale x
set output "w3.png"
set title "W3: throughput of all CPUs at once over one CPU's (perfect: the CPU count)"
set style data histograms
set style histogram clustered
set style fill solid 0.8 border -1
set xlabel ""
set ylabel "scaling"
set yrange [0:*]
set xtics rotate by -30
plot "w3.dat" using 2:xtic(1) title "hot alloc+put", "" using 3 title "batch of 64"

set output "w7.png"
set title "W7: flood, a pool of 16 at its cap, GFP_ATOMIC bursts on every CPU (contender/CPUs)"
set ylabel "allocations per second"
set logscale y 10
set yrange [1000:*]
plot "w7.dat" using 2:xtic(1) title "succeeded", "" using 3 title "failed"
