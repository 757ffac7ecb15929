/**
 * npm run kafka:drain -- --stack NAME --brokers 3,4 [options]
 * Moves every replica of every topic off the given brokers (the ones a lower `bss:kafka.brokers` removes), with
 * Kafka's own kafka-reassign-partitions run inside a remaining broker's pod (kubectl exec), throttled to
 * `bss:kafka.reassignmentThrottleBytes`, and waits until it is done. Refuses, before moving anything, when a
 * partition's only in-sync copies are on those brokers or it has no leader. Once the brokers hold nothing it marks
 * the brokers' StatefulSet (components/kafka/rebalance/broker-guard.ts: DRAIN_ANNOTATION) so the next `pulumi up`
 * with the lower count goes through. Exit 0 when drained, 1 when refused or failed, 2 on bad usage or settings.
 */
import * as fs from "fs";
import * as path from "path";
import { readStackConfigFile } from "../render/render";
import { parseFlags } from "./cli-flags";
import { kubectlRunner } from "./kubectl";
import { loadSettings, SettingsError } from "../settings";
import { drainPlan, PartitionPlacement, PartitionState, reassignmentJson } from "../components/kafka/rebalance/assignment";
import { DRAIN_ANNOTATION } from "../components/kafka/rebalance/broker-guard";
import { KAFKA_NAME, KAFKA_PORTS } from "../components/kafka/config";

const ROOT = path.resolve(__dirname, "..");

export const USAGE = `usage: npm run kafka:drain -- --stack NAME --brokers ID[,ID...] [--config-file FILE] [--kubectl PATH]
    [--kube-context NAME] [--kubeconfig FILE] [--timeout-s N] [--poll-s N]`;

export interface DrainOptions {
    stack: string;
    brokers: number[];
    configFile: string;
    kubectl: string;
    kubeContext?: string;
    kubeconfig?: string;
    timeoutSeconds: number;
    pollSeconds: number;
}

const VALUE_FLAGS = ["--stack", "--brokers", "--config-file", "--kubectl", "--kube-context", "--kubeconfig", "--timeout-s", "--poll-s"];

/** Parses the command line; throws a usage error naming the flag and what it got. */
export function parseDrainArgs(argv: string[], root = ROOT): DrainOptions {
    const { values, stack } = parseFlags(argv, VALUE_FLAGS, [], USAGE);
    const brokerText = values.get("--brokers");
    const brokers = (brokerText ?? "").split(",").map((id) => id.trim()).filter(Boolean);
    if (brokers.length === 0 || brokers.some((id) => !/^\d+$/.test(id))) {
        throw new Error(`--brokers takes broker ids such as 3,4, got ${JSON.stringify(brokerText ?? null)}\n${USAGE}`);
    }
    const seconds = (flag: string, fallback: number, min: number, max: number) => {
        const value = Number(values.get(flag) ?? fallback);
        if (!Number.isInteger(value) || value < min || value > max) {
            throw new Error(`${flag} must be an integer from ${min} to ${max}, got ${JSON.stringify(values.get(flag))}`);
        }
        return value;
    };
    return {
        stack,
        brokers: [...new Set(brokers.map(Number))].sort((a, b) => a - b),
        configFile: path.resolve(values.get("--config-file") ?? path.join(root, `Pulumi.${stack}.yaml`)),
        kubectl: values.get("--kubectl") ?? "kubectl",
        kubeContext: values.get("--kube-context"),
        kubeconfig: values.get("--kubeconfig"),
        timeoutSeconds: seconds("--timeout-s", 3600, 10, 86400),
        pollSeconds: seconds("--poll-s", 5, 1, 300),
    };
}

/**
 * The partitions of `kafka-topics --describe` output (Kafka 3.9: one tab-separated line per partition,
 * `Leader: none` when it has no leader).
 */
export function parseTopicDescribe(text: string): PartitionState[] {
    const ids = (field: string | undefined) => (field ?? "").split(",").map((id) => id.trim()).filter((id) => /^\d+$/.test(id)).map(Number);
    return text.split("\n").flatMap((line) => {
        const fields = Object.fromEntries(line.split("\t").map((part) => part.trim()).filter((part) => part.includes(": ") || part.endsWith(":"))
            .map((part) => [part.slice(0, part.indexOf(":")), part.slice(part.indexOf(":") + 1).trim()]));
        if (fields.Topic === undefined || fields.Partition === undefined || !/^\d+$/.test(fields.Partition)) {
            return [];
        }
        return [{
            topic: fields.Topic,
            partition: Number(fields.Partition),
            leader: /^\d+$/.test(fields.Leader ?? "") ? Number(fields.Leader) : -1,
            replicas: ids(fields.Replicas),
            isr: ids(fields.Isr),
        }];
    });
}

/** Partitions `kafka-reassign-partitions --verify` still reports as moving, and ones that ended elsewhere. */
export function verifyState(text: string): { moving: number; elsewhere: string[] } {
    const lines = text.split("\n");
    return {
        moving: lines.filter((l) => l.includes("is still in progress")).length,
        elsewhere: lines.filter((l) => l.includes("rather than")),
    };
}

const sleep = (seconds: number) => new Promise((resolve) => setTimeout(resolve, seconds * 1000));

/** The drain itself; `log` gets one line per step. Resolves when drained and marked; rejects with the reason otherwise. */
export async function drain(options: DrainOptions, log: (line: string) => void = console.log): Promise<{ moved: number; seconds: number }> {
    if (!fs.existsSync(options.configFile)) {
        throw new Error(`no stack config file ${options.configFile}`);
    }
    const config = readStackConfigFile(options.configFile);
    const settings = loadSettings(config.values, options.stack, new Set(config.secretKeys));
    const kubectl = kubectlRunner({ ...options, kubeContext: options.kubeContext ?? config.values["kubernetes:context"] }, settings.namespace);

    const statefulSet = JSON.parse(await kubectl(["get", "statefulset", KAFKA_NAME, "--output", "json"]));
    const running: number = statefulSet.spec.replicas;
    const unknown = options.brokers.filter((id) => id >= running);
    if (unknown.length > 0) {
        throw new Error(`--brokers ${options.brokers.join(",")}: the StatefulSet ${settings.namespace}/${KAFKA_NAME} runs brokers 0-${running - 1} only, not ${unknown.join(",")}`);
    }
    const remaining = [...Array(running).keys()].filter((id) => !options.brokers.includes(id));
    if (remaining.length === 0) {
        throw new Error(`--brokers ${options.brokers.join(",")} would drain every broker`);
    }
    const pod = `${KAFKA_NAME}-${remaining[0]}`;
    const tool = (args: string[]) => kubectl(["exec", "-i", pod, "-c", "kafka", "--", "java", "-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
        "-cp", "/opt/kafka/libs/*", ...args]);
    const bootstrap = ["--bootstrap-server", `localhost:${KAFKA_PORTS.internal}`];
    const describe = async () => parseTopicDescribe(await tool(["org.apache.kafka.tools.TopicCommand", ...bootstrap, "--describe"]));
    const file = "/tmp/bss-drain.json";
    const reassign = (args: string[]) => tool(["org.apache.kafka.tools.reassign.ReassignPartitionsCommand", ...bootstrap, "--reassignment-json-file", file, ...args]);

    const started = Date.now();
    const deadline = started + options.timeoutSeconds * 1000;
    let moved = 0;
    // A topic created meanwhile may land on the drained brokers: look again until a round has nothing to move.
    for (let round = 1; ; round++) {
        const plan = drainPlan(await describe(), options.brokers, remaining);
        if (plan.problems.length > 0) {
            throw new Error(`refusing to drain brokers ${options.brokers.join(",")} (nothing was moved in this round):\n${plan.problems.map((p) => `  - ${p}`).join("\n")}`);
        }
        if (plan.moves.length === 0) {
            break;
        }
        if (round > 3) {
            throw new Error(`brokers ${options.brokers.join(",")} still get new replicas after 3 rounds (topics being created on them?): ${names(plan.moves)}`);
        }
        log(`kafka-drain: round ${round}: moving ${plan.moves.length} partition(s) off brokers ${options.brokers.join(",")} onto ${remaining.join(",")}, throttled to ${settings.kafka.reassignmentThrottleBytes} bytes/s`);
        await kubectl(["exec", "-i", pod, "-c", "kafka", "--", "bash", "-c", `cat > ${file}`], reassignmentJson(plan.moves));
        await reassign(["--execute", "--throttle", String(settings.kafka.reassignmentThrottleBytes)]);
        for (;;) {
            const state = verifyState(await reassign(["--verify"]));
            if (state.moving === 0) {
                if (state.elsewhere.length > 0) {
                    throw new Error(`the reassignment ended with partitions elsewhere than asked:\n${state.elsewhere.join("\n")}`);
                }
                break;
            }
            if (Date.now() > deadline) {
                throw new Error(`${state.moving} partition(s) still moving after ${options.timeoutSeconds} s (the reassignment goes on in the cluster; run the drain again to wait for it)`);
            }
            log(`kafka-drain: ${state.moving} partition(s) still moving`);
            await sleep(options.pollSeconds);
        }
        moved += plan.moves.length;
    }
    const generation: number = JSON.parse(await kubectl(["get", "statefulset", KAFKA_NAME, "--output", "json"])).metadata.generation;
    await kubectl(["annotate", "statefulset", KAFKA_NAME, "--overwrite", `${DRAIN_ANNOTATION}=${JSON.stringify({ brokers: options.brokers, generation })}`]);
    const seconds = Math.round((Date.now() - started) / 1000);
    log(`kafka-drain: brokers ${options.brokers.join(",")} hold no replicas (${moved} partition(s) moved in ${seconds} s, throttle removed); `
        + `the StatefulSet is marked at generation ${generation}: lower bss:kafka.brokers to ${Math.min(...options.brokers)} and deploy before changing anything else`);
    return { moved, seconds };
}

function names(placements: PartitionPlacement[]): string {
    return placements.map((p) => `${p.topic}-${p.partition}`).join(", ");
}

if (require.main === module) {
    let options: DrainOptions;
    try {
        options = parseDrainArgs(process.argv.slice(2));
    } catch (error) {
        console.error((error as Error).message);
        process.exit(2);
    }
    drain(options).then(() => process.exit(0), (error: Error) => {
        console.error(error instanceof SettingsError ? error.message : `kafka-drain: ${error.message}`);
        process.exit(error instanceof SettingsError ? 2 : 1);
    });
}
