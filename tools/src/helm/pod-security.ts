/**
 * The Pod Security Standards' `restricted` profile (Kubernetes 1.25+, which includes everything of
 * `baseline`), checked on a pod spec the way the PodSecurity admission controller checks it:
 * https://kubernetes.io/docs/concepts/security/pod-security-standards/. Returns one message per
 * violation, naming the container and field.
 */

type Capabilities = { add?: string[]; drop?: string[] };
interface SecurityContext {
  privileged?: boolean;
  allowPrivilegeEscalation?: boolean;
  runAsNonRoot?: boolean;
  runAsUser?: number;
  capabilities?: Capabilities;
  seccompProfile?: { type?: string };
  seLinuxOptions?: { type?: string; user?: string; role?: string };
  procMount?: string;
  appArmorProfile?: { type?: string };
  windowsOptions?: { hostProcess?: boolean };
}
interface ContainerSpec {
  name: string;
  securityContext?: SecurityContext;
  ports?: { hostPort?: number }[];
}
export interface PodSecuritySpec {
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  securityContext?: SecurityContext & { sysctls?: { name: string }[] };
  containers?: ContainerSpec[];
  initContainers?: ContainerSpec[];
  ephemeralContainers?: ContainerSpec[];
  volumes?: Record<string, unknown>[];
}

const RESTRICTED_VOLUME_TYPES = new Set([
  'configMap',
  'csi',
  'downwardAPI',
  'emptyDir',
  'ephemeral',
  'persistentVolumeClaim',
  'projected',
  'secret',
]);
const SAFE_SYSCTLS = new Set([
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
]);
const SELINUX_TYPES = new Set([
  '',
  'container_t',
  'container_init_t',
  'container_kvm_t',
  'container_engine_t',
]);

export function restrictedViolations(pod: PodSecuritySpec): string[] {
  const problems: string[] = [];
  const podContext = pod.securityContext ?? {};
  const containers = [
    ...(pod.containers ?? []).map((c) => ({ c, at: `containers[${c.name}]` })),
    ...(pod.initContainers ?? []).map((c) => ({ c, at: `initContainers[${c.name}]` })),
    ...(pod.ephemeralContainers ?? []).map((c) => ({ c, at: `ephemeralContainers[${c.name}]` })),
  ];

  // baseline
  for (const field of ['hostNetwork', 'hostPID', 'hostIPC'] as const)
    if (pod[field]) problems.push(`spec.${field}: must not be true`);
  for (const sysctl of podContext.sysctls ?? [])
    if (!SAFE_SYSCTLS.has(sysctl.name))
      problems.push(`securityContext.sysctls: ${sysctl.name} is not a safe sysctl`);
  for (const volume of pod.volumes ?? []) {
    const type = Object.keys(volume).find((key) => key !== 'name') ?? '?';
    if (!RESTRICTED_VOLUME_TYPES.has(type))
      problems.push(`volumes[${String(volume.name)}]: type ${type} is not allowed`);
  }
  const contexts = [{ sc: podContext, at: 'securityContext' }].concat(
    containers.map(({ c, at }) => ({ sc: c.securityContext ?? {}, at: `${at}.securityContext` })),
  );
  for (const { sc, at } of contexts) {
    if (sc.windowsOptions?.hostProcess) problems.push(`${at}.windowsOptions.hostProcess: must not be true`);
    if (!SELINUX_TYPES.has(sc.seLinuxOptions?.type ?? ''))
      problems.push(`${at}.seLinuxOptions.type: ${sc.seLinuxOptions?.type} is not allowed`);
    if (sc.seLinuxOptions?.user || sc.seLinuxOptions?.role)
      problems.push(`${at}.seLinuxOptions: user and role must not be set`);
    if (sc.appArmorProfile?.type === 'Unconfined')
      problems.push(`${at}.appArmorProfile: must not be Unconfined`);
    if (sc.seccompProfile?.type === 'Unconfined')
      problems.push(`${at}.seccompProfile: must not be Unconfined`);
    if (sc.runAsUser === 0) problems.push(`${at}.runAsUser: must not be 0`);
  }

  // restricted, per container (pod-level settings count where Kubernetes inherits them)
  const podSeccomp = podContext.seccompProfile?.type;
  for (const { c, at } of containers) {
    const sc = c.securityContext ?? {};
    if (sc.privileged) problems.push(`${at}.securityContext.privileged: must not be true`);
    if (sc.procMount && sc.procMount !== 'Default')
      problems.push(`${at}.securityContext.procMount: must be Default`);
    for (const port of c.ports ?? [])
      if (port.hostPort) problems.push(`${at}.ports: hostPort ${port.hostPort} is not allowed`);
    if (sc.allowPrivilegeEscalation !== false)
      problems.push(`${at}.securityContext.allowPrivilegeEscalation: must be false`);
    if (!(sc.runAsNonRoot ?? podContext.runAsNonRoot))
      problems.push(`${at}: runAsNonRoot must be true (on the pod or the container)`);
    const seccomp = sc.seccompProfile?.type ?? podSeccomp;
    if (seccomp !== 'RuntimeDefault' && seccomp !== 'Localhost')
      problems.push(
        `${at}: seccompProfile.type must be RuntimeDefault or Localhost (on the pod or the container)`,
      );
    if (!(sc.capabilities?.drop ?? []).includes('ALL'))
      problems.push(`${at}.securityContext.capabilities.drop: must include ALL`);
    for (const added of sc.capabilities?.add ?? [])
      if (added !== 'NET_BIND_SERVICE')
        problems.push(`${at}.securityContext.capabilities.add: ${added} is not allowed`);
  }
  return problems;
}
