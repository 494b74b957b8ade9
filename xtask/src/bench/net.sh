#!/bin/busybox sh
# /bin/bench-net of the benchmark's Linux peer (docs/bench.md): installs busybox's applet
# links, mounts the pseudo file systems, loads the NIC's modules, configures eth0 from the
# kernel command line (ip=ADDR/N gw=GW) and prints the NET-UP marker Halyard also prints.
# /init runs it before starting netsvc; in the shell boot the xtask runs it from the shell
# before starting hsshd and httpd (the service rows). Exit status 0 when eth0 is up.
/bin/busybox --install -s /bin 2>/dev/null
export PATH=/bin
grep -q ' /proc ' /proc/mounts 2>/dev/null || mount -t proc proc /proc
grep -q ' /sys ' /proc/mounts || mount -t sysfs sysfs /sys
grep -q ' /dev ' /proc/mounts || mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/modules.order); do
    grep -q "^$m " /proc/modules || insmod "/lib/modules/$m.ko" || echo "BENCH-ERROR insmod $m"
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
if ip addr add "$addr" dev eth0 && ip link set eth0 up && ip route add default via "$gw"; then
    echo "NET-UP $addr"
else
    echo "BENCH-ERROR eth0 not configured"
    exit 1
fi
