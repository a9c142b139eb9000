#!/bin/sh
# Checks the built greeter.
set -e
output=$(sh "$1" Tart)
[ "$output" = "Hello, Tart!" ] || { echo "unexpected output: $output"; exit 1; }
echo "greeter test passed"
