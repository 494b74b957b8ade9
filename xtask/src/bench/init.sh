#!/bin/busybox sh
# /init of the benchmark's Linux peer (built by `cargo xtask bench`, see docs/bench.md).
# Brings up the network with /bin/bench-net (net.sh: mounts, the NIC's modules, eth0 from
# the kernel command line, the NET-UP marker Halyard also prints), then starts netsvc and
# stays alive.
# With `bench=shell` on the kernel command line (Linux puts it in init's environment) it
# starts busybox's shell on the console at once instead: the user-space rows.
if [ "$bench" = shell ]; then
    export PATH=/bin PS1='peer# '
    exec /bin/sh
fi
/bin/bench-net
/bin/netsvc &
while true; do sleep 3600; done
