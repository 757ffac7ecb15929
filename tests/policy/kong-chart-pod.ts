/**
 * The Kong pod as the `kong` chart 3.4.1 builds it from its values (templates/deployment.yaml and the
 * volume helpers in _helpers.tpl), restricted to what Pod Security and the pack's pod rules look at: the
 * chart is not rendered here (no helm, no chart in any registry reachable from CI), so this maps the values
 * the stack hands the chart onto the fields the chart copies them to.
 * - pod `securityContext` ← `securityContext`; `hostNetwork` ← `deployment.hostNetwork`
 * - containers `proxy` and init container `clear-stale-pid` (same image): `securityContext` ←
 *   `containerSecurityContext`, `resources` ← `resources`, a `hostPort` per listener that sets one
 * - `deployment.initContainers`, `deployment.sidecarContainers`, `deployment.userDefinedVolumes`: verbatim
 * - volumes: emptyDirs for the prefix and /tmp, the projected service-account token `kong-token` (added even
 *   with automount off, seen in a `helm template` of 3.4.1), the DB-less config Secret, `secretVolumes`
 * - pod annotations ← `podAnnotations`
 */
type Obj = Record<string, any>;

const LISTENERS = ["admin", "proxy", "status", "cluster", "manager", "portal", "portalapi", "clustertelemetry"];

export function kongChartPodTemplate(values: Obj): { metadata: Obj; spec: Obj } {
    const image = `${values.image?.repository}:${values.image?.tag}`;
    const kongContainer = (name: string, extra: Obj = {}): Obj => ({
        name,
        image,
        securityContext: values.containerSecurityContext,
        resources: values.resources,
        ...extra,
    });
    const hostPorts = LISTENERS.flatMap((listener) => ["http", "tls"].flatMap((kind) => {
        const port = values[listener]?.[kind];
        return values[listener]?.enabled !== false && port?.enabled !== false && port?.hostPort
            ? [{ name: `${listener}-${kind}`, containerPort: port.containerPort, hostPort: port.hostPort }]
            : [];
    }));
    const deployment: Obj = values.deployment ?? {};
    return {
        metadata: { annotations: values.podAnnotations ?? {} },
        spec: {
            ...(deployment.hostNetwork !== undefined ? { hostNetwork: deployment.hostNetwork } : {}),
            securityContext: values.securityContext,
            initContainers: [kongContainer("clear-stale-pid"), ...(deployment.initContainers ?? [])],
            containers: [...(deployment.sidecarContainers ?? []), kongContainer("proxy", { ports: hostPorts })],
            volumes: [
                { name: "kong-prefix-dir", emptyDir: {} },
                { name: "kong-tmp", emptyDir: {} },
                { name: "kong-token", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } },
                ...(values.dblessConfig?.secret ? [{ name: "kong-custom-dbless-config-volume", secret: { secretName: values.dblessConfig.secret } }] : []),
                ...((values.secretVolumes ?? []) as string[]).map((name) => ({ name, secret: { secretName: name } })),
                ...(deployment.userDefinedVolumes ?? []),
            ],
        },
    };
}
