#!/bin/sh
# "Compiles" the greeter: prints a script that greets its first argument.
cat <<'SCRIPT'
#!/bin/sh
echo "Hello, ${1:-stranger}!"
SCRIPT
