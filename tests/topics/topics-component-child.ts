/**
 * Child process of topics-component.test.ts: KafkaTopics under Pulumi's mocks, with gates the scenarios open or
 * fail by hand, in a process of its own (failed registrations end as rejections nobody handles, which a jest
 * worker would not survive). Writes what each scenario saw as JSON to the file named by argv[2].
 */
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import type { TopicSettings } from "../../settings";
import { messageOnlyRunError } from "../../components/topics/run-error";

export interface ComponentRecord {
    gated: {
        /** Each gate call: the addresses it got, and whether the brokers were registered by then. */
        calls: { servers: string[]; brokersRegistered: boolean }[];
        /** Resources registered while the gate was still closed. */
        beforeOpen: string[];
        providerInputs: Record<string, unknown>;
        topics: string[];
        partitions: Record<string, number>;
    };
    refused: {
        /** Resources of the scenario that reached the engine. */
        registered: string[];
        unhandledCount: number;
        /** Every unhandled rejection was the gate's own error object. */
        allTheGateError: boolean;
        message: string;
        partitions: Record<string, number>;
    };
    failedTopics: { partitions: Record<string, number> };
}

const registered: { type: string; name: string; inputs: Record<string, unknown> }[] = [];
const failing = new Set(["c.raised-then-failed", "c.new-and-failed"]);
const unhandled: unknown[] = [];
process.on("unhandledRejection", (reason) => unhandled.push(reason));

/** Stands in for the broker StatefulSet and Services the topics wait for. */
class Brokers extends pulumi.CustomResource {
    constructor(name: string) {
        super("test:index:Brokers", name, {});
    }
}

const topic = (name: string, partitions: number) => ({ name, partitions, replicationFactor: 3, config: {} }) as unknown as TopicSettings;
const settle = () => new Promise((resolve) => setTimeout(resolve, 300));
const valueOf = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));
const namesOf = (type: string, prefix: string) => registered.filter((r) => r.type === type && r.name.startsWith(prefix)).map((r) => r.name).sort();

async function main(): Promise<ComponentRecord> {
    await pulumi.runtime.setMocks({
        newResource(args) {
            if (failing.has(args.name)) {
                throw new Error(`create of ${args.name} failed`);
            }
            registered.push({ type: args.type, name: args.name, inputs: args.inputs });
            return { id: `${args.name}-id`, state: args.inputs };
        },
        call: (args) => args.inputs,
    }, "bss", "topics-component", false);
    const { KafkaTopics } = await import("../../components/topics/topics");

    // Gated: the gate opens by hand.
    const brokers = new Brokers("a-brokers");
    let open!: () => void;
    const calls: ComponentRecord["gated"]["calls"] = [];
    const gatedTopics = new KafkaTopics("a-topics", {
        topics: [topic("a.one", 3), topic("a.two", 6)],
        bootstrapServers: ["localhost:9092", "localhost:9093"],
        dependsOn: [brokers],
        externalGate: (servers) => {
            calls.push({ servers: [...servers], brokersRegistered: registered.some((r) => r.name === "a-brokers") });
            return new Promise<void>((resolve) => (open = resolve));
        },
    });
    await settle();
    const beforeOpen = registered.filter((r) => r.name.startsWith("a")).map((r) => `${r.type}::${r.name}`).sort();
    open();
    const gatedPartitions = await valueOf(gatedTopics.partitions);
    const gated = {
        calls, beforeOpen,
        providerInputs: registered.find((r) => r.name === "a-topics-provider")?.inputs ?? {},
        topics: namesOf("kafka:index/topic:Topic", "a."),
        partitions: gatedPartitions,
    };

    // Refused: the gate gives up.
    unhandled.length = 0;
    const refusal = messageOnlyRunError("Kafka's EXTERNAL listeners did not all answer (scenario)");
    const refusedTopics = new KafkaTopics("b-topics", {
        topics: [topic("b.one", 3)],
        bootstrapServers: ["localhost:9092"],
        externalGate: () => Promise.reject(refusal),
    });
    const refusedPartitions = await valueOf(refusedTopics.partitions);
    await settle();
    const refused = {
        registered: registered.filter((r) => r.name.startsWith("b")).map((r) => `${r.type}::${r.name}`),
        unhandledCount: unhandled.length,
        allTheGateError: unhandled.every((reason) => reason === refusal),
        message: refusal.message,
        partitions: refusedPartitions,
    };

    // Two topics fail to be created: the export falls back to the last deployment for them.
    const partlyFailed = new KafkaTopics("c-topics", {
        topics: [topic("c.created", 9), topic("c.raised-then-failed", 12), topic("c.new-and-failed", 4)],
        bootstrapServers: ["localhost:9092"],
        externalGate: async () => undefined,
        deployedPartitions: { "c.created": 3, "c.raised-then-failed": 6, "c.removed": 5 },
    });
    const failedTopics = { partitions: await valueOf(partlyFailed.partitions) };
    await settle();
    return { gated, refused, failedTopics };
}

main().then(
    (record) => fs.writeFileSync(process.argv[2], JSON.stringify(record)),
    (error) => {
        console.error(error);
        process.exitCode = 1;
    },
);
