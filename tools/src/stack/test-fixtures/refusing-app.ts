// An app that refuses its configuration the way launch() does: its message on stderr, exit 78.
process.stderr.write('refusing-app: invalid configuration (1 problem):\n  - PORT: must be a port\n');
process.exit(78);
