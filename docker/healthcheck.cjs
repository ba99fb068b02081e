// The image's HEALTHCHECK: GET /livez on the port the app listens on. That is PORT when set, else the
// app's own default, read from the compiled app registry (libs/contracts apps.ts, which every app's
// config, `npm start` and the chart read too).
const REGISTRY = './dist/libs/contracts/src/apps.js';

function defaultPort(app) {
  const { APP_PORTS } = require(REGISTRY);
  return Object.hasOwn(APP_PORTS, app) ? APP_PORTS[app] : undefined;
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
