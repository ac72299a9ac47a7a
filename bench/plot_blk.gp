# IOPS against queue depth: Vireo irq/poll/hybrid (EVENT_IDX on) and the Linux peer, randread
# and randwrite side by side. bench/run.py calls it:
#   gnuplot -e "dat='build/bench/blk_iops_raw.dat'; out='...png'; backend='raw'" bench/plot_blk.gp
# Columns of dat: qd, randread irq poll hybrid linux, randwrite irq poll hybrid linux.
set terminal pngcairo size 1200,500 font "sans,10"
set output out
set multiplot layout 1,2 title sprintf("virtio-blk 4 KiB, %s backend (QEMU TCG, medians of alternated runs)", backend)
set logscale x 2
set xrange [0.8:80]
set xtics (1, 4, 16, 32, 64)
set xlabel "queue depth"
set ylabel "IOPS"
set yrange [0:*]
set grid
set key top left
set style data linespoints
do for [i=0:1] {
    set title (i == 0 ? "random read" : "random write")
    c = 2 + 4*i
    plot dat using 1:c title "Vireo irq" lw 2 pt 7, \
         dat using 1:c+1 title "Vireo poll" lw 2 pt 5, \
         dat using 1:c+2 title "Vireo hybrid" lw 2 pt 9, \
         dat using 1:c+3 title "Linux (AIO, irq)" lw 2 pt 13 dt 2 lc rgb "black"
}
unset multiplot
