/**
 * Checks rendered Kubernetes objects against the rules a real API server (and the controllers behind it)
 * enforce, so a render that passes here is not refused or left broken by `kubectl apply`.
 * Returns every violation as "Kind/namespace/name: problem"; an empty list means the set is valid.
 */

import { restrictedViolations } from "../../policy/pod-security";

type Obj = Record<string, any>;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;
const IANA_SVC_NAME = /^(?=.{1,15}$)(?=.*[a-z])[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

const CLUSTER_SCOPED = new Set(["Namespace", "ClusterRole", "ClusterRoleBinding", "PersistentVolume", "StorageClass", "CustomResourceDefinition", "PriorityClass"]);
/** Kinds whose names must be DNS-1123 labels rather than subdomains. */
const LABEL_NAMED = new Set(["Namespace", "Service"]);
const WORKLOADS = new Set(["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet"]);

export const NODE_PORT_RANGE = [30000, 32767] as const;

function id(o: Obj): string {
    return `${o.kind}/${o.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata?.name}`;
}

function checkKeyValueMap(map: unknown, what: string, problems: string[], checkValue: boolean): void {
    if (map === undefined) {
        return;
    }
    if (typeof map !== "object" || map === null) {
        problems.push(`${what} must be a map`);
        return;
    }
    for (const [key, value] of Object.entries(map)) {
        const slash = key.lastIndexOf("/");
        const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
        const name = slash >= 0 ? key.slice(slash + 1) : key;
        if ((prefix !== undefined && (prefix.length > 253 || !DNS1123_SUBDOMAIN.test(prefix))) || name.length > 63 || !LABEL_NAME.test(name)) {
            problems.push(`${what} key "${key}" is not a valid qualified name`);
        }
        if (typeof value !== "string") {
            problems.push(`${what} "${key}" must be a string, got ${JSON.stringify(value)}`);
        } else if (checkValue && (value.length > 63 || !LABEL_VALUE.test(value))) {
            problems.push(`${what} "${key}" has an invalid label value "${value}"`);
        }
    }
}

/** True when every selector label is on the pod template (what makes a Service or PDB select it). */
function selects(selector: Record<string, string> | undefined, podLabels: Record<string, string> | undefined): boolean {
    if (!selector || Object.keys(selector).length === 0) {
        return false;
    }
    return Object.entries(selector).every(([k, v]) => podLabels?.[k] === v);
}

/**
 * The label sets a workload's pods carry: the template's, and for a StatefulSet also the labels its controller
 * adds to each pod (`statefulset.kubernetes.io/pod-name: <name>-<ordinal>`, `apps.kubernetes.io/pod-index`),
 * which per-pod Services select on.
 */
function podLabelSets(o: Obj): (Record<string, string> | undefined)[] {
    const template = podLabelsOf(o);
    if (o.kind !== "StatefulSet") {
        return [template];
    }
    return [...Array(o.spec?.replicas ?? 1).keys()].map((i) => ({
        ...template,
        "statefulset.kubernetes.io/pod-name": `${o.metadata?.name}-${i}`,
        "apps.kubernetes.io/pod-index": String(i),
    }));
}

/** True when the selector picks at least one pod the workload runs. */
function selectsAnyPod(selector: Record<string, string> | undefined, workload: Obj): boolean {
    return podLabelSets(workload).some((podLabels) => selects(selector, podLabels));
}

function podSpecOf(o: Obj): Obj | undefined {
    if (o.kind === "Pod") {
        return o.spec;
    }
    if (o.kind === "CronJob") {
        return o.spec?.jobTemplate?.spec?.template?.spec;
    }
    return WORKLOADS.has(o.kind) ? o.spec?.template?.spec : undefined;
}

function podLabelsOf(o: Obj): Record<string, string> | undefined {
    return o.kind === "Pod" ? o.metadata?.labels : o.spec?.template?.metadata?.labels;
}

function parseQuantity(text: string | number): number {
    if (typeof text === "number") {
        return text;
    }
    const m = /^([0-9.]+)([a-zA-Z]*)$/.exec(text);
    if (!m) {
        return NaN;
    }
    const units: Record<string, number> = { "": 1, m: 1e-3, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };
    return units[m[2]] === undefined ? NaN : Number(m[1]) * units[m[2]];
}

function find(objects: Obj[], kind: string, namespace: string | undefined, name: string): Obj | undefined {
    return objects.find((o) => o.kind === kind && o.metadata?.name === name && (CLUSTER_SCOPED.has(kind) || o.metadata?.namespace === namespace));
}

function checkProbePort(probe: Obj | undefined, portNames: Set<string>, what: string, problems: string[]): void {
    const port = probe?.httpGet?.port ?? probe?.tcpSocket?.port ?? probe?.grpc?.port;
    if (typeof port === "string" && !portNames.has(port)) {
        problems.push(`${what} refers to port "${port}", which no port of the container is named`);
    }
    if (typeof port === "number" && (port < 1 || port > 65535)) {
        problems.push(`${what} port ${port} is out of range`);
    }
    if (probe && !probe.httpGet && !probe.tcpSocket && !probe.exec && !probe.grpc) {
        problems.push(`${what} has no handler (exec, httpGet, tcpSocket or grpc)`);
    }
}

function checkPodSpec(o: Obj, spec: Obj, objects: Obj[], problems: string[]): void {
    const ns = o.metadata?.namespace;
    const volumes = new Map<string, Obj>();
    for (const v of spec.volumes ?? []) {
        if (!DNS1123_LABEL.test(v.name ?? "")) {
            problems.push(`volume name "${v.name}" is not a DNS-1123 label`);
        }
        if (volumes.has(v.name)) {
            problems.push(`volume "${v.name}" is declared twice`);
        }
        volumes.set(v.name, v);
        const refs: [string, string | undefined, Obj[] | undefined, boolean | undefined][] = [];
        if (v.configMap) {
            refs.push(["ConfigMap", v.configMap.name, v.configMap.items, v.configMap.optional]);
        }
        if (v.secret) {
            refs.push(["Secret", v.secret.secretName, v.secret.items, v.secret.optional]);
        }
        for (const source of v.projected?.sources ?? []) {
            if (source.configMap) {
                refs.push(["ConfigMap", source.configMap.name, source.configMap.items, source.configMap.optional]);
            }
            if (source.secret) {
                refs.push(["Secret", source.secret.name, source.secret.items, source.secret.optional]);
            }
        }
        for (const [kind, name, items, optional] of refs) {
            const target = name === undefined ? undefined : find(objects, kind, ns, name);
            if (!target) {
                if (!optional) {
                    problems.push(`volume "${v.name}" refers to ${kind} "${name}", which the stack does not create`);
                }
                continue;
            }
            const keys = new Set([...Object.keys(target.data ?? {}), ...Object.keys(target.stringData ?? {}), ...Object.keys(target.binaryData ?? {})]);
            for (const item of items ?? []) {
                if (!keys.has(item.key)) {
                    problems.push(`volume "${v.name}" wants key "${item.key}" of ${kind} "${name}", which has only ${[...keys].join(", ")}`);
                }
            }
        }
        for (const mode of [v.configMap?.defaultMode, v.secret?.defaultMode]) {
            if (mode !== undefined && (!Number.isInteger(mode) || mode < 0 || mode > 0o777)) {
                problems.push(`volume "${v.name}" defaultMode ${mode} is not a file mode (0-0777; write it as a number, e.g. 0o755 = 493)`);
            }
        }
    }
    const claimTemplates = new Set<string>((o.kind === "StatefulSet" ? o.spec?.volumeClaimTemplates ?? [] : []).map((t: Obj) => t.metadata?.name));

    const containers: Obj[] = [...(spec.initContainers ?? []), ...(spec.containers ?? [])];
    if ((spec.containers ?? []).length === 0) {
        problems.push("pod template has no containers");
    }
    const containerNames = new Set<string>();
    for (const c of containers) {
        const what = `container "${c.name}"`;
        if (!DNS1123_LABEL.test(c.name ?? "")) {
            problems.push(`${what}: name is not a DNS-1123 label`);
        }
        if (containerNames.has(c.name)) {
            problems.push(`${what} is declared twice`);
        }
        containerNames.add(c.name);
        if (!c.image) {
            problems.push(`${what} has no image`);
        }
        const portNames = new Set<string>();
        const portNumbers = new Set<string>();
        for (const p of c.ports ?? []) {
            if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) {
                problems.push(`${what} port ${JSON.stringify(p.containerPort)} is out of range`);
            }
            if (p.name !== undefined) {
                if (!IANA_SVC_NAME.test(p.name)) {
                    problems.push(`${what} port name "${p.name}" is not an IANA service name (at most 15 characters, lowercase)`);
                }
                if (portNames.has(p.name)) {
                    problems.push(`${what} port name "${p.name}" is used twice`);
                }
                portNames.add(p.name);
            }
            const key = `${p.containerPort}/${p.protocol ?? "TCP"}`;
            if (portNumbers.has(key)) {
                problems.push(`${what} declares port ${key} twice`);
            }
            portNumbers.add(key);
        }
        for (const probe of ["livenessProbe", "readinessProbe", "startupProbe"]) {
            checkProbePort(c[probe], portNames, `${what} ${probe}`, problems);
        }
        const mountPaths = new Set<string>();
        for (const m of c.volumeMounts ?? []) {
            if (!volumes.has(m.name) && !claimTemplates.has(m.name)) {
                problems.push(`${what} mounts volume "${m.name}", which the pod does not declare`);
            }
            if (mountPaths.has(m.mountPath)) {
                problems.push(`${what} mounts two volumes at ${m.mountPath}`);
            }
            mountPaths.add(m.mountPath);
        }
        const envNames = new Set<string>();
        for (const e of c.env ?? []) {
            if (!ENV_NAME.test(e.name ?? "")) {
                problems.push(`${what} env name "${e.name}" is invalid`);
            }
            if (envNames.has(e.name)) {
                problems.push(`${what} sets env "${e.name}" twice`);
            }
            envNames.add(e.name);
            if (e.value !== undefined && e.valueFrom !== undefined) {
                problems.push(`${what} env "${e.name}" has both value and valueFrom`);
            }
            if (e.value !== undefined && typeof e.value !== "string") {
                problems.push(`${what} env "${e.name}" value must be a string, got ${JSON.stringify(e.value)}`);
            }
            for (const [kind, ref] of [["Secret", e.valueFrom?.secretKeyRef], ["ConfigMap", e.valueFrom?.configMapKeyRef]] as [string, Obj | undefined][]) {
                if (!ref) {
                    continue;
                }
                const target = find(objects, kind, ns, ref.name);
                if (!target && !ref.optional) {
                    problems.push(`${what} env "${e.name}" refers to ${kind} "${ref.name}", which the stack does not create`);
                } else if (target && ![...Object.keys(target.data ?? {}), ...Object.keys(target.stringData ?? {})].includes(ref.key)) {
                    problems.push(`${what} env "${e.name}" wants key "${ref.key}" of ${kind} "${ref.name}", which it lacks`);
                }
            }
        }
        for (const resource of ["cpu", "memory"]) {
            const request = c.resources?.requests?.[resource];
            const limit = c.resources?.limits?.[resource];
            if (request !== undefined && limit !== undefined && parseQuantity(request) > parseQuantity(limit)) {
                problems.push(`${what} requests more ${resource} (${request}) than its limit (${limit})`);
            }
            for (const q of [request, limit]) {
                if (q !== undefined && Number.isNaN(parseQuantity(q))) {
                    problems.push(`${what} ${resource} quantity "${q}" is not a quantity`);
                }
            }
        }
    }
}

export function checkObjects(objects: Obj[]): string[] {
    const all: string[] = [];
    const seen = new Set<string>();
    const nodePorts = new Map<number, string>();

    for (const o of objects) {
        const problems: string[] = [];
        if (typeof o.apiVersion !== "string" || typeof o.kind !== "string") {
            problems.push("apiVersion and kind are required");
        }
        const name = o.metadata?.name;
        if (typeof name !== "string" || name.length > 253 || !(LABEL_NAMED.has(o.kind) ? DNS1123_LABEL : DNS1123_SUBDOMAIN).test(name) || (LABEL_NAMED.has(o.kind) && name.length > 63)) {
            problems.push(`metadata.name ${JSON.stringify(name)} is not a valid ${LABEL_NAMED.has(o.kind) ? "DNS-1123 label" : "DNS-1123 subdomain"}`);
        }
        if (CLUSTER_SCOPED.has(o.kind)) {
            if (o.metadata?.namespace !== undefined) {
                problems.push("a cluster-scoped object must not have metadata.namespace");
            }
        } else if (typeof o.metadata?.namespace !== "string" || !DNS1123_LABEL.test(o.metadata.namespace)) {
            problems.push("a namespaced object needs metadata.namespace");
        } else if (!find(objects, "Namespace", undefined, o.metadata.namespace)) {
            problems.push(`namespace "${o.metadata.namespace}" is not created by the stack`);
        }
        const key = `${o.apiVersion}/${id(o)}`;
        if (seen.has(key)) {
            problems.push("is declared twice");
        }
        seen.add(key);
        checkKeyValueMap(o.metadata?.labels, "label", problems, true);
        checkKeyValueMap(o.metadata?.annotations, "annotation", problems, false);

        if (o.kind === "ConfigMap" || o.kind === "Secret") {
            for (const field of ["data", "stringData", "binaryData"]) {
                for (const [k, v] of Object.entries(o[field] ?? {})) {
                    if (!CONFIG_KEY.test(k) || k.length > 253) {
                        problems.push(`${field} key "${k}" is invalid`);
                    }
                    if (typeof v !== "string") {
                        problems.push(`${field} "${k}" must be a string, got ${typeof v}`);
                    }
                }
            }
        }

        const spec = podSpecOf(o);
        if (spec) {
            if (o.kind === "Job" && !o.spec?.manualSelector) {
                // The Job controller generates the selector (controller-uid); one given without manualSelector is refused.
                if (o.spec?.selector !== undefined) {
                    problems.push("spec.selector is generated by the API server: set it only with spec.manualSelector: true");
                }
            } else if (o.kind !== "Pod" && o.kind !== "CronJob") {
                const selector = o.spec?.selector?.matchLabels;
                if (!selects(selector, podLabelsOf(o))) {
                    problems.push(`spec.selector ${JSON.stringify(selector)} does not match the template labels ${JSON.stringify(podLabelsOf(o))}`);
                }
            }
            checkKeyValueMap(podLabelsOf(o), "template label", problems, true);
            checkKeyValueMap(o.spec?.template?.metadata?.annotations, "template annotation", problems, false);
            checkPodSpec(o, spec, objects, problems);
            // PodSecurity admission refuses each pod the controller creates, so the workload is accepted and never runs.
            const namespace = find(objects, "Namespace", undefined, o.metadata?.namespace);
            if (namespace?.metadata?.labels?.["pod-security.kubernetes.io/enforce"] === "restricted") {
                const podAnnotations = o.kind === "Pod" ? o.metadata?.annotations : o.kind === "CronJob" ? o.spec?.jobTemplate?.spec?.template?.metadata?.annotations : o.spec?.template?.metadata?.annotations;
                problems.push(...restrictedViolations(spec, podAnnotations ?? {}).map((p) => `pod refused by the namespace's enforced Pod Security "restricted": ${p}`));
            }
            if (o.kind === "StatefulSet") {
                const service = find(objects, "Service", o.metadata?.namespace, o.spec.serviceName);
                if (!service) {
                    problems.push(`spec.serviceName "${o.spec.serviceName}" is not a Service of the stack`);
                } else if (service.spec?.clusterIP !== "None") {
                    problems.push(`spec.serviceName "${o.spec.serviceName}" must be a headless Service (clusterIP: None) for per-pod DNS names`);
                }
                for (const t of o.spec.volumeClaimTemplates ?? []) {
                    if (!t.spec?.resources?.requests?.storage || !(t.spec?.accessModes ?? []).length) {
                        problems.push(`volumeClaimTemplate "${t.metadata?.name}" needs accessModes and a storage request`);
                    }
                }
            }
        }

        if (o.kind === "Service") {
            const type = o.spec?.type ?? "ClusterIP";
            const targets = objects.filter((w) => w.metadata?.namespace === o.metadata?.namespace && podSpecOf(w) && selectsAnyPod(o.spec?.selector, w));
            if (o.spec?.selector && targets.length === 0) {
                problems.push(`selector ${JSON.stringify(o.spec.selector)} matches no pod template of the stack`);
            }
            const portNames = new Set<string>();
            for (const p of o.spec?.ports ?? []) {
                if (!Number.isInteger(p.port) || p.port < 1 || p.port > 65535) {
                    problems.push(`port ${JSON.stringify(p.port)} is out of range`);
                }
                if ((o.spec?.ports ?? []).length > 1 && !p.name) {
                    problems.push(`port ${p.port} needs a name (the Service has several ports)`);
                }
                if (p.name) {
                    if (portNames.has(p.name)) {
                        problems.push(`port name "${p.name}" is used twice`);
                    }
                    portNames.add(p.name);
                }
                if (typeof p.targetPort === "string") {
                    const named = targets.some((w) => [...(podSpecOf(w)!.containers ?? [])].some((c: Obj) => (c.ports ?? []).some((cp: Obj) => cp.name === p.targetPort)));
                    if (targets.length > 0 && !named) {
                        problems.push(`targetPort "${p.targetPort}" is not a named port of the selected pods`);
                    }
                }
                if (p.nodePort !== undefined) {
                    if (type !== "NodePort" && type !== "LoadBalancer") {
                        problems.push(`nodePort ${p.nodePort} is only allowed on NodePort and LoadBalancer Services (type ${type})`);
                    }
                    if (p.nodePort < NODE_PORT_RANGE[0] || p.nodePort > NODE_PORT_RANGE[1]) {
                        problems.push(`nodePort ${p.nodePort} is outside ${NODE_PORT_RANGE[0]}-${NODE_PORT_RANGE[1]}`);
                    }
                    const owner = nodePorts.get(p.nodePort);
                    if (owner) {
                        problems.push(`nodePort ${p.nodePort} is already allocated to ${owner}`);
                    }
                    nodePorts.set(p.nodePort, id(o));
                }
            }
            if (o.spec?.clusterIP === "None" && type !== "ClusterIP") {
                problems.push("a headless Service must be of type ClusterIP");
            }
        }

        if (o.kind === "PodDisruptionBudget") {
            if ((o.spec?.minAvailable === undefined) === (o.spec?.maxUnavailable === undefined)) {
                problems.push("exactly one of minAvailable and maxUnavailable must be set");
            }
            const selector = o.spec?.selector?.matchLabels;
            if (!objects.some((w) => w.metadata?.namespace === o.metadata?.namespace && podSpecOf(w) && selectsAnyPod(selector, w))) {
                problems.push(`selector ${JSON.stringify(selector)} matches no pod template of the stack`);
            }
        }

        all.push(...problems.map((p) => `${id(o)}: ${p}`));
    }
    return all;
}
