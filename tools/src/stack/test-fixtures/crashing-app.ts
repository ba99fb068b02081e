// An app that crashes (exit 1): the supervisor brings it back.
process.stderr.write('crashing-app: boom\n');
process.exit(1);
