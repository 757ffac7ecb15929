/**
 * The API-server rules (tests/helpers/api-server-rules.ts) apply PodSecurity admission: in a namespace that
 * enforces "restricted", a pod template that breaks it is reported, because the API server would accept the
 * workload and refuse every pod of it. Every rendered stack goes through those rules in tests/render/stacks.test.ts.
 */
import { checkObjects } from "../helpers/api-server-rules";

type Obj = Record<string, any>;

function objects(enforce: string | undefined, change: (pod: Obj) => void = () => undefined): Obj[] {
    const labels = { app: "demo" };
    const pod: Obj = {
        securityContext: { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
        containers: [{ name: "app", image: "redis:7.2.16", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
    };
    change(pod);
    return [
        { apiVersion: "v1", kind: "Namespace", metadata: { name: "bss", labels: enforce ? { "pod-security.kubernetes.io/enforce": enforce } : {} } },
        {
            apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "demo", namespace: "bss" },
            spec: { selector: { matchLabels: labels }, template: { metadata: { labels, annotations: { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" } }, spec: pod } },
        },
    ];
}

it("reports restricted violations of pod templates in a namespace that enforces restricted, annotations included", () => {
    expect(checkObjects(objects("restricted", (pod) => { pod.hostPID = true; }))).toEqual([
        "Deployment/bss/demo: pod refused by the namespace's enforced Pod Security \"restricted\": hostPID must not be true (host namespaces)",
        "Deployment/bss/demo: pod refused by the namespace's enforced Pod Security \"restricted\": annotation container.apparmor.security.beta.kubernetes.io/app must be runtime/default or localhost/<profile>, got \"unconfined\"",
    ]);
});

it("leaves namespaces that do not enforce restricted to their own level", () => {
    expect(checkObjects(objects("baseline", (pod) => { pod.hostPID = true; }))).toEqual([]);
    expect(checkObjects(objects(undefined, (pod) => { pod.hostPID = true; }))).toEqual([]);
});
