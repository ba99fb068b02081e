import { type PodSecuritySpec, restrictedViolations } from './pod-security';

// The checker must fail each way a pod can break the restricted profile, or the chart checks that
// rely on it prove nothing.

const compliant = (): PodSecuritySpec => ({
  securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  containers: [
    {
      name: 'app',
      securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    },
  ],
  volumes: [{ name: 'tmp', emptyDir: {} }],
});

describe('restrictedViolations', () => {
  it('passes a pod that meets the restricted profile', () => {
    expect(restrictedViolations(compliant())).toEqual([]);
  });

  it.each<[string, (pod: PodSecuritySpec) => void, RegExp]>([
    ['root user', (pod) => (pod.securityContext!.runAsUser = 0), /securityContext.runAsUser: must not be 0/],
    [
      'no runAsNonRoot anywhere',
      (pod) => delete pod.securityContext!.runAsNonRoot,
      /containers\[app\]: runAsNonRoot must be true/,
    ],
    [
      'privilege escalation left on',
      (pod) => delete pod.containers![0].securityContext!.allowPrivilegeEscalation,
      /allowPrivilegeEscalation: must be false/,
    ],
    [
      'no seccomp profile',
      (pod) => delete pod.securityContext!.seccompProfile,
      /seccompProfile.type must be RuntimeDefault or Localhost/,
    ],
    [
      'capabilities kept',
      (pod) => (pod.containers![0].securityContext!.capabilities = { drop: ['NET_RAW'] }),
      /capabilities.drop: must include ALL/,
    ],
    [
      'a capability added',
      (pod) => (pod.containers![0].securityContext!.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] }),
      /capabilities.add: SYS_ADMIN is not allowed/,
    ],
    [
      'privileged',
      (pod) => (pod.containers![0].securityContext!.privileged = true),
      /privileged: must not be true/,
    ],
    ['host network', (pod) => (pod.hostNetwork = true), /spec.hostNetwork: must not be true/],
    [
      'hostPath volume',
      (pod) => pod.volumes!.push({ name: 'host', hostPath: { path: '/' } }),
      /hostPath is not allowed/,
    ],
    ['host port', (pod) => (pod.containers![0].ports = [{ hostPort: 80 }]), /hostPort 80 is not allowed/],
    [
      'an init container without the settings',
      (pod) => (pod.initContainers = [{ name: 'init' }]),
      /initContainers\[init\].securityContext.allowPrivilegeEscalation: must be false/,
    ],
    [
      'an unsafe sysctl',
      (pod) => (pod.securityContext!.sysctls = [{ name: 'kernel.msgmax' }]),
      /kernel.msgmax is not a safe sysctl/,
    ],
  ])('refuses %s', (_name, breakIt, message) => {
    const pod = compliant();
    breakIt(pod);
    expect(restrictedViolations(pod).join('\n')).toMatch(message);
  });
});
