// Integration runs: a directory where libs/testing notes every server group and temporary data
// directory it starts, removed again when they stop (see global-teardown.cjs). Workers inherit it.
const { mkdtempSync } = require('node:fs');
const os = require('node:os');
const path = require('node:path');

module.exports = async () => {
  process.env.CHOREO_TEST_RUN_DIR = mkdtempSync(path.join(os.tmpdir(), 'choreo-test-run-'));
};
