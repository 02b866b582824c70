#!/bin/sh
# A worker that does a little work, then fails on purpose: tend restarts it, backing off if it keeps failing.
i=0
while [ $i -lt 5 ]; do
  i=$((i + 1))
  echo "working on job $i"
  sleep 1
done
echo "something went wrong" >&2
exit 1
