/**
 * npm run redis:drain -- --stack NAME --masters N [--replicas-per-master N] [options]
 * Empties the Redis nodes a lower shape removes (the StatefulSet's highest ordinals, whatever role they have now)
 * with Redis's own tools, run by `kubectl exec` in a node that stays (the password from that container's env,
 * through REDISCLI_AUTH, never on a command line): a staying replica of a leaving master takes over
 * (CLUSTER FAILOVER), the remaining leaving masters' slots move to the others (`redis-cli --cluster rebalance
 * --cluster-weight <id>=0`), every staying master gets its replicas on other Kubernetes nodes (CLUSTER REPLICATE),
 * and the leaving nodes are removed (`redis-cli --cluster del-node`). Then it marks the StatefulSet
 * (components/redis/scale-guard.ts: DRAIN_ANNOTATION) so the next `pulumi up` with the lower shape goes through.
 * Refuses before changing anything when the plan finds a problem. Exit 0 when drained, 1 when refused or failed,
 * 2 on bad usage or settings.
 */
import * as fs from "fs";
import * as path from "path";
import { readStackConfigFile } from "../render/render";
import { parseFlags } from "./cli-flags";
import { Kubectl, kubectlRunner } from "./kubectl";
import { loadSettings, SettingsError } from "../settings";
import { DrainNode, drainPlan, parseClusterNodes } from "../components/redis/drain-plan";
import { DRAIN_ANNOTATION } from "../components/redis/scale-guard";
import { NAMES, podCount } from "../components/redis/manifests";
import { CLIENT_PORT } from "../components/redis/config";

const ROOT = path.resolve(__dirname, "..");

export const USAGE = `usage: npm run redis:drain -- --stack NAME --masters N [--replicas-per-master N] [--config-file FILE]
    [--kubectl PATH] [--kube-context NAME] [--kubeconfig FILE] [--timeout-s N]`;

export interface RedisDrainOptions {
    stack: string;
    masters: number;
    /** Default: the stack's `bss:redis.replicasPerMaster`. */
    replicasPerMaster?: number;
    configFile: string;
    kubectl: string;
    kubeContext?: string;
    kubeconfig?: string;
    timeoutSeconds: number;
}

const VALUE_FLAGS = ["--stack", "--masters", "--replicas-per-master", "--config-file", "--kubectl", "--kube-context", "--kubeconfig", "--timeout-s"];

/** Parses the command line; throws a usage error naming the flag and what it got. */
export function parseRedisDrainArgs(argv: string[], root = ROOT): RedisDrainOptions {
    const { values, stack } = parseFlags(argv, VALUE_FLAGS, [], USAGE);
    const integer = (flag: string, min: number, max: number): number | undefined => {
        const text = values.get(flag);
        if (text === undefined) {
            return undefined;
        }
        if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
            throw new Error(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(text)}\n${USAGE}`);
        }
        return Number(text);
    };
    const masters = integer("--masters", 1, 100);
    if (masters === undefined) {
        throw new Error(`--masters is required (the lower bss:redis.masters, or the current one when only replicasPerMaster goes down)\n${USAGE}`);
    }
    return {
        stack,
        masters,
        replicasPerMaster: integer("--replicas-per-master", 0, 5),
        configFile: path.resolve(values.get("--config-file") ?? path.join(root, `Pulumi.${stack}.yaml`)),
        kubectl: values.get("--kubectl") ?? "kubectl",
        kubeContext: values.get("--kube-context"),
        kubeconfig: values.get("--kubeconfig"),
        timeoutSeconds: integer("--timeout-s", 10, 86400) ?? 1800,
    };
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** redis-cli in a staying node's container; the password comes from that container's own env. */
function redisCli(kubectl: Kubectl, pod: string): (args: string[]) => Promise<string> {
    return (args) => kubectl(["exec", "-i", pod, "-c", "redis", "--", "bash", "-c", 'REDISCLI_AUTH="$REDIS_PASSWORD" exec redis-cli "$@"', "redis-cli", ...args]);
}

/** The cluster as the staying pod sees it, each node with its pod's ordinal and Kubernetes node. */
async function clusterView(kubectl: Kubectl, cli: (args: string[]) => Promise<string>): Promise<DrainNode[]> {
    const pods = JSON.parse(await kubectl(["get", "pods", "--selector", `app.kubernetes.io/name=${NAMES.statefulSet}`, "--output", "json"])).items as any[];
    const byAddress = new Map(pods.filter((p) => p.status?.podIP).map((p) => [`${p.status.podIP}:${CLIENT_PORT}`, p]));
    return parseClusterNodes(await cli(["-p", String(CLIENT_PORT), "cluster", "nodes"])).map((node) => {
        const pod = byAddress.get(node.address);
        if (!pod) {
            throw new Error(`CLUSTER NODES lists ${node.id.slice(0, 8)} at ${node.address}, which no pod of ${NAMES.statefulSet} has: mend the cluster first`);
        }
        return { ...node, ordinal: Number(pod.metadata.name.slice(NAMES.statefulSet.length + 1)), kubeNode: pod.spec.nodeName ?? "" };
    });
}

/** The drain itself; `log` gets one line per step. Resolves once drained and marked; rejects with the reason otherwise. */
export async function redisDrain(options: RedisDrainOptions, log: (line: string) => void = console.log): Promise<{ removed: number[]; seconds: number }> {
    if (!fs.existsSync(options.configFile)) {
        throw new Error(`no stack config file ${options.configFile}`);
    }
    const config = readStackConfigFile(options.configFile);
    const settings = loadSettings(config.values, options.stack, new Set(config.secretKeys));
    const target = { masters: options.masters, replicasPerMaster: options.replicasPerMaster ?? settings.redis.replicasPerMaster };
    if (target.masters === 2 || (target.masters === 1 && target.replicasPerMaster > 0)) {
        throw new Error(`--masters ${target.masters} with ${target.replicasPerMaster} replica(s) per master is not a shape bss:redis accepts`);
    }
    const kubectl = kubectlRunner({ ...options, kubeContext: options.kubeContext ?? config.values["kubernetes:context"] }, settings.namespace);
    const running: number = JSON.parse(await kubectl(["get", "statefulset", NAMES.statefulSet, "--output", "json"])).spec.replicas;
    const pods = podCount(target);
    if (pods >= running) {
        throw new Error(`the StatefulSet ${settings.namespace}/${NAMES.statefulSet} runs ${running} pods; the shape ${target.masters} x (1 + ${target.replicasPerMaster}) needs ${pods}: nothing to drain`);
    }
    const removed = Array.from({ length: running - pods }, (_, i) => pods + i);
    const cli = redisCli(kubectl, `${NAMES.statefulSet}-0`);
    const started = Date.now();
    const deadline = started + options.timeoutSeconds * 1000;
    const nodes = await clusterView(kubectl, cli);
    const plan = drainPlan(nodes, target);
    if (plan.problems.length > 0) {
        throw new Error(`refusing to drain ${removed.map((o) => `${NAMES.statefulSet}-${o}`).join(", ")} (nothing was changed):\n${plan.problems.map((p) => `  - ${p}`).join("\n")}`);
    }
    const node = (id: string) => nodes.find((n) => n.id === id)!;
    const host = (id: string) => ["-h", node(id).address.split(":")[0], "-p", String(CLIENT_PORT)];
    const endpoint = nodes.find((n) => n.ordinal === 0)!.address;
    const waitFor = async (what: string, done: () => Promise<boolean>) => {
        while (!(await done())) {
            if (Date.now() > deadline) {
                throw new Error(`${what} not reached within ${options.timeoutSeconds} s`);
            }
            await sleep(1);
        }
    };

    for (const replica of plan.failovers) {
        log(`redis-drain: ${NAMES.statefulSet}-${node(replica).ordinal} takes over from its leaving master (CLUSTER FAILOVER)`);
        await cli([...host(replica), "cluster", "failover"]);
        await waitFor(`${NAMES.statefulSet}-${node(replica).ordinal} master`, async () => (await cli([...host(replica), "role"])).startsWith("master"));
    }
    if (plan.empty.length > 0) {
        log(`redis-drain: moving the slots of ${plan.empty.map((id) => `${NAMES.statefulSet}-${node(id).ordinal}`).join(", ")} to the other masters (redis-cli --cluster rebalance --cluster-weight <id>=0)`);
        await waitFor("a consistent cluster (redis-cli --cluster check)", () => cli(["--cluster", "check", endpoint]).then(() => true, () => false));
        await cli(["--cluster", "rebalance", endpoint, "--cluster-weight", ...plan.empty.map((id) => `${id}=0`)]);
        const left = (await clusterView(kubectl, cli)).filter((n) => plan.empty.includes(n.id) && n.slots > 0);
        if (left.length > 0) {
            throw new Error(`after the rebalance ${left.map((n) => `${NAMES.statefulSet}-${n.ordinal}`).join(", ")} still own slots`);
        }
    }
    for (const [replica, master] of plan.replicate) {
        log(`redis-drain: ${NAMES.statefulSet}-${node(replica).ordinal} on ${node(replica).kubeNode} replicates ${NAMES.statefulSet}-${node(master).ordinal} on ${node(master).kubeNode}`);
        await cli([...host(replica), "cluster", "replicate", master]);
    }
    for (const [replica] of plan.replicate) {
        await waitFor(`${NAMES.statefulSet}-${node(replica).ordinal} in sync with its new master`, async () => {
            const info = await cli([...host(replica), "info", "replication"]);
            return /master_link_status:up/.test(info) && /master_sync_in_progress:0/.test(info);
        });
    }
    for (const id of plan.remove) {
        log(`redis-drain: removing ${NAMES.statefulSet}-${node(id).ordinal} from the cluster (redis-cli --cluster del-node)`);
        await cli(["--cluster", "del-node", endpoint, id]);
    }
    const generation: number = JSON.parse(await kubectl(["get", "statefulset", NAMES.statefulSet, "--output", "json"])).metadata.generation;
    await kubectl(["annotate", "statefulset", NAMES.statefulSet, "--overwrite", `${DRAIN_ANNOTATION}=${JSON.stringify({ ordinals: removed, generation })}`]);
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`redis-drain: ${removed.map((o) => `${NAMES.statefulSet}-${o}`).join(", ")} out of the cluster in ${seconds} s; the StatefulSet is marked at generation ${generation}: `
        + `set bss:redis.masters ${target.masters} and replicasPerMaster ${target.replicasPerMaster} and deploy before changing anything else`);
    return { removed, seconds };
}

if (require.main === module) {
    let options: RedisDrainOptions;
    try {
        options = parseRedisDrainArgs(process.argv.slice(2));
    } catch (error) {
        console.error((error as Error).message);
        process.exit(2);
    }
    redisDrain(options).then(() => process.exit(0), (error: Error) => {
        console.error(error instanceof SettingsError ? error.message : `redis-drain: ${error.message}`);
        process.exit(error instanceof SettingsError ? 2 : 1);
    });
}
