# IOPS against the host's CPU time per request (QEMU's, from /proc), 4 KiB random reads of the
# raw image: each aio mode with and without an iothread is one point per guest and mode, and
# the floor (qemu-img bench) is the same file without a guest. One panel per queue depth.
#   gnuplot -e "dat='build/bench/blk_iops_cpu.dat'; out='...png'" bench/plot_cpu.gp
# dat: two blocks (qd 1, qd 32; separated by two blank lines), each five sub-blocks (one
# blank line apart, in this order: floor, Vireo irq, Vireo poll, Vireo hybrid, Linux) of
# rows "cpu_us_per_req iops"
set terminal pngcairo size 1200,500 font "sans,10"
set output out
set multiplot layout 1,2 title "virtio-blk 4 KiB random read, raw image: IOPS against host CPU per request (QEMU TCG)"
set logscale x 10
set logscale y 10
set xlabel "host CPU µs per request (QEMU process, /proc)"
set ylabel "IOPS"
set grid
set key top right
set style data points
names = "1 32"
do for [b=0:1] {
    set title sprintf("queue depth %s", word(names, b+1))
    plot dat index b every :::0::0 using 1:2 title "floor (qemu-img bench)" pt 9 ps 1.5 lc rgb "black", \
         dat index b every :::1::1 using 1:2 title "Vireo irq" pt 7 ps 1.2 lc 1, \
         dat index b every :::2::2 using 1:2 title "Vireo poll" pt 5 ps 1.2 lc 2, \
         dat index b every :::3::3 using 1:2 title "Vireo hybrid" pt 13 ps 1.4 lc 3, \
         dat index b every :::4::4 using 1:2 title "Linux" pt 11 ps 1.2 lc rgb "gray40"
}
unset multiplot
