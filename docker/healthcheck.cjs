// The image's HEALTHCHECK: GET /livez on the port the app listens on. That is PORT when set, else the
// app's own default, read from the compiled app registry (the table `npm start` uses too).
const REGISTRY = './dist/tools/src/stack/apps.js';

function defaultPort(app) {
  const spec = require(REGISTRY)
    .appSpecs()
    .find((candidate) => candidate.name === app);
  return spec && spec.port;
}

const port = process.env.PORT || defaultPort(process.env.APP);
if (!port) {
  console.error(`healthcheck: APP=${process.env.APP} is not a choreo app and PORT is unset`);
  process.exit(1);
}
fetch(`http://127.0.0.1:${port}/livez`, { signal: AbortSignal.timeout(2500) }).then(
  (response) => process.exit(response.ok ? 0 : 1),
  () => process.exit(1),
);
