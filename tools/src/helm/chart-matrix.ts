import path from 'node:path';
import { CHART_ROOT } from './values-schema';

/**
 * The values a user will try, each rendered and checked by chart-manifests.int-spec.ts: every values
 * file under ci/, and combinations of the switches. The bare default image is refused at install
 * (see chart.int-spec.ts), so the cases that keep it name a registry.
 */
const REGISTRY = ['--set', 'global.imageRegistry=registry.example.com'];
const file = (name: string) => ['-f', path.join(CHART_ROOT, 'ci', name)];

export const VALUES_MATRIX: Record<string, string[]> = {
  'defaults (+ a registry)': REGISTRY,
  'ci/external-services.yaml': [...REGISTRY, ...file('external-services.yaml')],
  'ci/production.yaml': file('production.yaml'),
  'ci/exposed.yaml': file('exposed.yaml'),
  'openshift, simulator on, no NetworkPolicy, no ServiceAccount': [
    ...REGISTRY,
    '--set',
    'global.openshift=true',
    '--set',
    'simulator.enabled=true',
    '--set',
    'networkPolicy.enabled=false',
    '--set',
    'global.serviceAccount.create=false',
  ],
  'digests, image loaded on the nodes, no pull check': [
    '--set',
    'global.image.loadedOnNodes=true',
    '--set',
    'global.imagePullCheck.enabled=false',
    '--set',
    `global.image.digest=sha256:${'a'.repeat(64)}`,
    '--set',
    `postgresql.image.digest=sha256:${'b'.repeat(64)}`,
  ],
  'server settings, no Redis password, only crud and events': [
    ...REGISTRY,
    '--set',
    'postgresql.maxSlotWalKeepSize=-1',
    '--set',
    'postgresql.extraSettings.shared_buffers=256MB',
    '--set',
    'redis.maxmemory=',
    '--set',
    'redis.auth.enabled=false',
    '--set',
    'cdc-relay.enabled=false',
    '--set',
    'aggregator.enabled=false',
    '--set',
    'notifications.enabled=false',
  ],
};

/** A release name of 53 characters, Helm's maximum: every name the chart makes must still fit. */
export const LONG_RELEASE = 'a-release-name-of-fifty-three-characters-for-the-test';
