#!/bin/busybox sh
# /init of the benchmark's Linux peer (built by `cargo xtask bench`, see docs/bench.md).
# Mounts the pseudo file systems, loads the NIC's modules, configures eth0 from the
# kernel command line (ip=ADDR/N gw=GW), prints the NET-UP marker Halyard also prints,
# then starts netsvc and stays alive.
# With `bench=shell` on the kernel command line (Linux puts it in init's environment) it
# starts busybox's shell on the console at once instead: the user-space rows.
if [ "$bench" = shell ]; then
    export PATH=/bin PS1='peer# '
    exec /bin/sh
fi
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules.order); do
    insmod "/lib/modules/$m.ko" || echo "BENCH-ERROR insmod $m"
done
addr=192.168.100.2/24
gw=192.168.100.1
for word in $(cat /proc/cmdline); do
    case "$word" in
        ip=*) addr="${word#ip=}" ;;
        gw=*) gw="${word#gw=}" ;;
    esac
done
ip link set lo up
tries=0
while [ ! -e /sys/class/net/eth0 ] && [ "$tries" -lt 200 ]; do
    sleep 0.05
    tries=$((tries + 1))
done
ip addr add "$addr" dev eth0 && ip link set eth0 up && ip route add default via "$gw" \
    && echo "NET-UP $addr" || echo "BENCH-ERROR eth0 not configured"
/bin/netsvc &
while true; do sleep 3600; done
