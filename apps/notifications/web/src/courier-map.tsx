import type { CourierFix } from './tracking-state';

const WIDTH = 320;
const HEIGHT = 200;
const PAD = 16;

/**
 * The courier on a plain SVG map: the trail of its fixes, where it started (the kitchen) and where it
 * is now. The view fits the fixes seen so far (the page knows no street map, only positions).
 */
export function CourierMap({ trail, delivered }: { trail: CourierFix[]; delivered: boolean }) {
  if (trail.length === 0)
    return (
      <svg class="map" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="courier map">
        <text x={WIDTH / 2} y={HEIGHT / 2} text-anchor="middle">
          the courier appears here once on the way
        </text>
      </svg>
    );
  const lats = trail.map((f) => f.lat);
  const lngs = trail.map((f) => f.lng);
  const [minLat, maxLat, minLng, maxLng] = [
    Math.min(...lats),
    Math.max(...lats),
    Math.min(...lngs),
    Math.max(...lngs),
  ];
  // Same scale on both axes, so the route keeps its shape; north is up.
  const span = Math.max(maxLat - minLat, maxLng - minLng, 1e-4);
  const scale = Math.min(WIDTH - 2 * PAD, HEIGHT - 2 * PAD) / span;
  const x = (lng: number) => PAD + (lng - minLng) * scale;
  const y = (lat: number) => HEIGHT - PAD - (lat - minLat) * scale;
  const points = trail.map((f) => `${x(f.lng).toFixed(1)},${y(f.lat).toFixed(1)}`).join(' ');
  const first = trail[0];
  const last = trail[trail.length - 1];
  return (
    <svg
      class="map"
      viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
      role="img"
      aria-label="courier map"
      data-fixes={trail.length}
    >
      <polyline points={points} class="trail" />
      <rect x={x(first.lng) - 5} y={y(first.lat) - 5} width="10" height="10" class="kitchen">
        <title>kitchen</title>
      </rect>
      <circle cx={x(last.lng)} cy={y(last.lat)} r="7" class={delivered ? 'courier delivered' : 'courier'}>
        <title>
          courier at {last.lat.toFixed(5)}, {last.lng.toFixed(5)} ({new Date(last.time).toLocaleTimeString()})
        </title>
      </circle>
    </svg>
  );
}
