#!/bin/sh
# Busybox smoke test: the same script runs under Halyard and, chrooted into the same
# initramfs, under the host Linux; the outputs must be equal (xtask: qemu test
# `user-busybox`). Every line is deterministic: no times, pids or inode numbers.
set -e
cd /tmp
rm -rf smoke && mkdir smoke && cd smoke
echo "alpha beta gamma" > a.txt
printf 'line3\nline1\nline2\n' > b.txt
cat a.txt b.txt | wc -l
sort b.txt
sort -r b.txt | head -n 1
grep -c line b.txt
sed 's/beta/BETA/' a.txt
awk '{ print $2, NF }' a.txt
tr a-z A-Z < a.txt
cut -d ' ' -f 1,3 a.txt
seq 1 5 | xargs echo
seq 10 | tail -n 3 | paste -s -d +
echo $((3 + 4 * 5))
expr 6 \* 7
basename /a/b/c.txt .txt
dirname /a/b/c.txt
head -c 5 a.txt; echo
printf '%05d|%s\n' 42 ok
mkdir -p d/e && touch d/e/f && find d | sort
find . -name '*.txt' | sort
tar cf t.tar a.txt b.txt
gzip t.tar
gunzip -c t.tar.gz | tar tf - | sort
mkdir x && cd x && tar xzf ../t.tar.gz && cat a.txt && cd ..
sha256sum a.txt
md5sum b.txt
dd if=/dev/zero bs=1024 count=4 2>/dev/null | wc -c
od -A n -t x1 -N 4 a.txt
hexdump -C a.txt | head -n 1
echo hello | base64
ln -s a.txt link && readlink link
cp a.txt c.txt && cmp a.txt c.txt && echo same
mv c.txt m.txt && ls -1
rm m.txt link && ls | wc -l
wc -c a.txt
stat -c '%s %F %a' a.txt
chmod 640 a.txt && stat -c '%a' a.txt
test -f a.txt && echo file-test-ok
[ -d d ] && echo dir-test-ok
printf 'b\na\nb\n' | sort | uniq -c
echo 'x=1' | grep -E '^x=[0-9]+$'
date -u -d @0 '+%Y-%m-%d %H:%M'
sleep 0.1 && echo slept
kill -0 $$ && echo alive
sh -c 'exit 3' || echo "status $?"
ps > /dev/null && echo ps-ok
mkdir mnt && mount -t tmpfs none mnt && echo mounted
grep -c ' /tmp/smoke/mnt tmpfs' /proc/mounts
df mnt > /dev/null && echo df-ok
umount mnt && echo unmounted
free > /dev/null && echo free-ok
id -u
which sh
env | grep -c '^PATH='
true && false || echo or-ok
echo done
