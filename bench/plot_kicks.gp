# Kicks and interrupts per request against queue depth, Vireo irq mode with EVENT_IDX on and
# off (its own counters), and the Linux peer (QEMU trace), random read. One panel per backend.
#   gnuplot -e "dat='build/bench/blk_kicks_irqs.dat'; out='...png'; nb=2; names='null raw'" bench/plot_kicks.gp
# dat: one block per backend (separated by two blank lines), columns
#   qd kicks_ei1 kicks_ei0 irqs_ei1 irqs_ei0 linux_kicks linux_irqs
set terminal pngcairo size (600*nb),500 font "sans,10"
set output out
set multiplot layout 1,nb title "virtio-blk 4 KiB random read: kicks and interrupts per request (QEMU TCG)"
set logscale x 2
set logscale y 10
set xrange [0.8:80]
set xtics (1, 4, 16, 32, 64)
set yrange [0.005:2]
set xlabel "queue depth"
set ylabel "per request"
set grid
set key bottom left
set style data linespoints
do for [b=0:nb-1] {
    set title sprintf("%s backend", word(names, b+1))
    plot dat index b using 1:2 title "Vireo kicks, EVENT\\_IDX on" lw 2 pt 7 lc 1, \
         dat index b using 1:3 title "Vireo kicks, EVENT\\_IDX off" lw 2 pt 6 dt 2 lc 1, \
         dat index b using 1:4 title "Vireo irqs, EVENT\\_IDX on" lw 2 pt 5 lc 2, \
         dat index b using 1:5 title "Vireo irqs, EVENT\\_IDX off" lw 2 pt 4 dt 2 lc 2, \
         dat index b using 1:6 title "Linux kicks (trace)" lw 1 pt 13 lc rgb "black", \
         dat index b using 1:7 title "Linux irqs (/proc/interrupts)" lw 1 pt 12 dt 3 lc rgb "gray40", \
         0.125 title "target 1/8" lw 1 dt 4 lc rgb "red"
}
unset multiplot
