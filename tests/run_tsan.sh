#!/bin/sh
# Runs a ThreadSanitizer test binary. GCC 12's TSan cannot start when the kernel randomises
# mmap addresses with more entropy than it expects (vm.mmap_rnd_bits > 28: "unexpected memory
# mapping"); in that case the run is repeated without address randomisation.
log=$(mktemp)
"$@" >"$log" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q "unexpected memory mapping" "$log"; then
  rm -f "$log"
  exec setarch "$(uname -m)" -R "$@"
fi
cat "$log"
rm -f "$log"
exit "$rc"
