#!/bin/sh
# Runs a test program in a network namespace of its own, with only a
# loopback, so that its 127.0.0.0/8 and ::1 ports cannot collide with another
# test's (meson runs two at a time, and a port picked free can be taken by
# someone else before the daemon binds it). Without root, or where
# namespaces are not allowed, the program runs in the caller's network.
if [ "$(id -u)" = 0 ] && unshare --net true 2>/dev/null; then
    exec unshare --net sh -c 'ip link set lo up && exec "$@"' own_netns "$@"
fi
exec "$@"
