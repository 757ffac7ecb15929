/**
 * The few things `verify` asks Kubernetes, through the user's own kubectl: where each pod runs, a load
 * balancer's address, and a port-forward to a Service or Deployment that has no address outside the cluster.
 * Every call is bounded; none is needed for Kafka, and each area says what it could not learn without it.
 */
import { ChildProcess, spawn } from "child_process";
import { UnreachableError } from "./bounded";

export interface KubectlTarget {
    /** The kubectl executable. */
    command: string;
    /** `kubernetes:context` of the stack; unset: kubectl's current context. */
    context?: string;
    namespace: string;
}

function baseArgs(target: KubectlTarget): string[] {
    return [...(target.context ? ["--context", target.context] : []), "--namespace", target.namespace];
}

/** Runs kubectl with `args`, resolves with its stdout; rejects with its stderr, or after `timeoutMs`. */
export function kubectl(target: KubectlTarget, args: string[], timeoutMs: number): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = spawn(target.command, [...baseArgs(target), ...args], { stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        const timer = setTimeout(() => {
            child.kill("SIGKILL");
            reject(new UnreachableError(`kubectl ${args.join(" ")} gave no answer within ${timeoutMs} ms`));
        }, timeoutMs);
        child.on("error", (error: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            reject(new Error(error.code === "ENOENT" ? `${target.command} not found` : error.message));
        });
        child.on("close", (code) => {
            clearTimeout(timer);
            if (code === 0) {
                resolve(stdout);
            } else {
                reject(new Error(`kubectl ${args.join(" ")} exited ${code}: ${stderr.trim().split("\n").pop() ?? ""}`));
            }
        });
    });
}

/** Pod IP → pod name and Kubernetes node, for every pod of the namespace that has both. */
export async function podPlacement(target: KubectlTarget, timeoutMs: number): Promise<Map<string, { pod: string; node: string }>> {
    const list = JSON.parse(await kubectl(target, ["get", "pods", "--output", "json"], timeoutMs)) as {
        items: { metadata: { name: string }; spec?: { nodeName?: string }; status?: { podIP?: string } }[];
    };
    const placement = new Map<string, { pod: string; node: string }>();
    for (const item of list.items ?? []) {
        if (item.status?.podIP && item.spec?.nodeName) {
            placement.set(item.status.podIP, { pod: item.metadata.name, node: item.spec.nodeName });
        }
    }
    return placement;
}

/** The first ingress address of a LoadBalancer Service, or undefined while the cloud has not assigned one. */
export async function loadBalancerAddress(target: KubectlTarget, service: string, timeoutMs: number): Promise<string | undefined> {
    const svc = JSON.parse(await kubectl(target, ["get", "service", service, "--output", "json"], timeoutMs)) as {
        status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
    };
    const ingress = svc.status?.loadBalancer?.ingress?.[0];
    return ingress?.ip ?? ingress?.hostname;
}

export interface PortForward {
    host: string;
    port: number;
    close(): void;
}

/**
 * `kubectl port-forward <resource> 0:<remotePort>` on 127.0.0.1; resolves once kubectl reports the local port
 * it picked ("Forwarding from 127.0.0.1:NNNNN -> remotePort"), rejects when it exits or stays silent.
 */
export function portForward(target: KubectlTarget, resource: string, remotePort: number, timeoutMs: number): Promise<PortForward> {
    return new Promise((resolve, reject) => {
        let child: ChildProcess;
        try {
            child = spawn(target.command, [...baseArgs(target), "port-forward", "--address", "127.0.0.1", resource, `0:${remotePort}`], { stdio: ["ignore", "pipe", "pipe"] });
        } catch (error) {
            reject(error);
            return;
        }
        let stdout = "";
        let stderr = "";
        let settled = false;
        const close = () => child.kill("SIGTERM");
        const fail = (error: Error) => {
            if (!settled) {
                settled = true;
                clearTimeout(timer);
                close();
                reject(error);
            }
        };
        const timer = setTimeout(() => fail(new UnreachableError(`kubectl port-forward ${resource} reported no local port within ${timeoutMs} ms`)), timeoutMs);
        child.stdout!.on("data", (d) => {
            stdout += d;
            const match = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(stdout);
            if (match && !settled) {
                settled = true;
                clearTimeout(timer);
                resolve({ host: "127.0.0.1", port: Number(match[1]), close });
            }
        });
        child.stderr!.on("data", (d) => (stderr += d));
        child.on("error", (error: NodeJS.ErrnoException) => fail(new Error(error.code === "ENOENT" ? `${target.command} not found` : error.message)));
        child.on("close", (code) => fail(new UnreachableError(`kubectl port-forward ${resource} exited ${code}: ${stderr.trim().split("\n").pop() ?? ""}`)));
    });
}
