// After every integration spec has finished (or its worker died): SIGKILL each server group still
// noted in CHOREO_TEST_RUN_DIR and remove each temporary data directory, so a failed run leaves
// no PostgreSQL or Redis behind. A group is killed only while its leader still runs the command noted.
const { readdirSync, readFileSync, rmSync } = require('node:fs');
const path = require('node:path');

// Redis rewrites its process title ("redis-server 127.0.0.1:6379"): compare program names only.
function stillRuns(pid, command) {
  try {
    const running = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split(/[\0 ]/)[0];
    return path.basename(running) === path.basename(command);
  } catch {
    return false;
  }
}

module.exports = async () => {
  const runDir = process.env.CHOREO_TEST_RUN_DIR;
  if (!runDir) return;
  const left = [];
  for (const name of readdirSync(runDir)) {
    const noted = readFileSync(path.join(runDir, name), 'utf8');
    if (name.startsWith('group-')) {
      const pid = Number(name.slice('group-'.length));
      if (!stillRuns(pid, noted)) continue;
      try {
        process.kill(-pid, 'SIGKILL');
        left.push(`${path.basename(noted)} (pid ${pid})`);
      } catch (error) {
        if (error.code !== 'ESRCH') throw error;
      }
    }
  }
  // Data directories after the servers that held them are gone.
  await new Promise((resolve) => setTimeout(resolve, left.length > 0 ? 500 : 0));
  for (const name of readdirSync(runDir)) {
    if (name.startsWith('dir-'))
      rmSync(readFileSync(path.join(runDir, name), 'utf8'), { recursive: true, force: true });
  }
  rmSync(runDir, { recursive: true, force: true });
  if (left.length > 0)
    process.stderr.write(`integration teardown: killed servers a spec left running: ${left.join(', ')}\n`);
};
