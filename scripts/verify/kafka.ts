/**
 * Kafka checks: every broker registered and reachable on its advertised EXTERNAL address, one controller, no
 * under-replicated or offline partition, every declared topic as declared, and the drift (topics nobody
 * declared, topic configs set outside the stack).
 */
import type { TopicSettings } from "../../settings";
import { isUnreachable, messageOf, UnreachableError } from "./bounded";
import { CONFIG_SOURCE, describeTopicConfigs, TopicConfigEntry } from "./kafka-configs";
import type { MetadataTopic } from "../../components/shared/kafka-metadata";
import { brokerView, BrokerView, topicMetadata } from "./kafka-metadata";
import { describeQuorum, QuorumView } from "./kafka-quorum";
import { CONTROLLER_NODE_ID_BASE, MetadataMode } from "../../settings/kafka";
import { CheckResult, Status } from "./report";

/** What the stack declares about Kafka. */
export interface KafkaExpectation {
    /** Broker ids 0..brokers-1 (broker.id = pod ordinal). */
    brokers: number;
    topics: readonly TopicSettings[];
    /** `bss:kafka.metadata`; default `zookeeper`. A KRaft stack is checked for its quorum instead of one controller broker. */
    metadata?: MetadataMode;
    /** KRaft voters (`bss:kafka.controllers`), node ids 1000 + ordinal; KRaft stacks only. */
    controllers?: number;
}

export interface ObservedPartition {
    partitionId: number;
    /** -1 when the partition has no leader (offline). */
    leader: number;
    replicas: number[];
    isr: number[];
}

export interface ObservedTopic {
    name: string;
    partitions: ObservedPartition[];
    /**
     * The error Kafka's metadata answer gives for the whole topic, named and explained (its partitions are then not
     * known). Absent when the topic was listed without one.
     */
    error?: string;
    /** Effective config of a declared topic: value and where Kafka says it comes from. Absent for other topics. */
    config?: Record<string, TopicConfigEntry>;
}

export interface KafkaObservation {
    /** One entry per address asked: what that broker answered, or why it did not. */
    views: (BrokerView | { address: string; error: string; unreachable: boolean })[];
    /** Every topic in the cluster, or why the topic metadata could not be read. */
    topics: ObservedTopic[] | { error: string; unreachable: boolean };
    /** KRaft stacks: the metadata quorum as the active controller describes it (through a broker), or why not. */
    quorum?: QuorumView | { error: string; unreachable: boolean };
}

/** A voter the leader has not seen caught up for this long counts as lagging. */
export const QUORUM_LAG_BOUND_MS = 30_000;

const CHECKS = {
    listeners: "external listeners answer",
    brokers: "brokers registered",
    controller: "one controller",
    quorum: "KRaft metadata quorum",
    underReplicated: "under-replicated partitions",
    offline: "offline partitions",
    undeclared: "undeclared topics",
} as const;

const topicCheck = (topic: string) => `topic ${topic}`;

/** The name of every Kafka row, in report order. */
export function kafkaCheckNames(topics: readonly TopicSettings[], metadata: MetadataMode = "zookeeper"): string[] {
    return [CHECKS.listeners, CHECKS.brokers, metadata === "kraft" ? CHECKS.quorum : CHECKS.controller, CHECKS.underReplicated, CHECKS.offline, ...topics.map((t) => topicCheck(t.name)), CHECKS.undeclared];
}

/** Topics Kafka creates and owns itself (consumer offsets, transaction state). */
const isInternal = (topic: string) => topic.startsWith("__");

const row = (check: string, status: Status, detail: string): CheckResult => ({ area: "kafka", check, status, detail });

const list = (items: (string | number)[], max = 8) => (items.length > max ? `${items.slice(0, max).join(", ")} and ${items.length - max} more` : items.join(", "));

function answered(view: KafkaObservation["views"][number]): view is BrokerView {
    return !("error" in view);
}

function topicRow(declared: TopicSettings, observed: ObservedTopic | undefined): CheckResult {
    const check = topicCheck(declared.name);
    if (!observed) {
        return row(check, "fail", `missing (declared: ${declared.partitions} partitions, replication ${declared.replicationFactor})`);
    }
    if (observed.error !== undefined) {
        return row(check, "fail", `listed with ${observed.error}: partitions and replication not known`);
    }
    const problems: string[] = [];
    if (observed.partitions.length !== declared.partitions) {
        problems.push(`${observed.partitions.length} partitions, declared ${declared.partitions}`);
    }
    const wrongReplication = observed.partitions.filter((p) => p.replicas.length !== declared.replicationFactor);
    if (wrongReplication.length > 0) {
        problems.push(`replication ${list([...new Set(wrongReplication.map((p) => p.replicas.length))])} on partition ${list(wrongReplication.map((p) => p.partitionId))}, declared ${declared.replicationFactor}`);
    }
    const config = observed.config ?? {};
    for (const [key, value] of Object.entries(declared.config).sort(([a], [b]) => a.localeCompare(b))) {
        const actual = config[key];
        if (actual === undefined) {
            problems.push(`config ${key} unknown to the broker, declared ${value}`);
        } else if (actual.value !== value) {
            problems.push(`config ${key}=${actual.value}, declared ${value}`);
        }
    }
    const undeclared = Object.entries(config).filter(([key, c]) => c.source === CONFIG_SOURCE.TOPIC_CONFIG && !(key in declared.config));
    for (const [key, c] of undeclared.sort(([a], [b]) => a.localeCompare(b))) {
        // The provider replaces a topic's whole config set: the next `pulumi up` reverts such a key to the default.
        problems.push(`config ${key}=${c.value} set on the topic but not declared`);
    }
    if (problems.length > 0) {
        return row(check, "fail", `drift: ${problems.join("; ")}`);
    }
    return row(check, "ok", `${declared.partitions} partitions, replication ${declared.replicationFactor}, ${Object.keys(declared.config).length} configs as declared`);
}

/** The rows for one observation of the cluster against what the stack declares. Pure. */
export function evaluateKafka(expected: KafkaExpectation, observed: KafkaObservation): CheckResult[] {
    const wantedIds = [...Array(expected.brokers).keys()];
    const views = observed.views.filter(answered);
    const silent = observed.views.filter((v): v is { address: string; error: string; unreachable: boolean } => !answered(v));
    const rows: CheckResult[] = [];

    if (views.length === 0) {
        const why = `no broker answered: ${silent.map((v) => `${v.address} (${v.error})`).join("; ")}`;
        return kafkaCheckNames(expected.topics, expected.metadata).map((check) => row(check, "unreachable", why));
    }

    rows.push(silent.length === 0
        ? row(CHECKS.listeners, "ok", `${views.map((v) => v.address).join(", ")} answer`)
        : row(CHECKS.listeners, "fail", `${silent.map((v) => `${v.address} (${v.error})`).join("; ")}; answering: ${views.map((v) => v.address).join(", ")}`));

    const registered = views.map((v) => ({ address: v.address, ids: v.brokers.map((b) => b.nodeId).sort((a, b) => a - b) }));
    const brokerProblems = registered.flatMap(({ address, ids }) => {
        const missing = wantedIds.filter((id) => !ids.includes(id));
        const unexpected = ids.filter((id) => !wantedIds.includes(id));
        return [
            ...(missing.length > 0 ? [`${address} lists no broker ${list(missing)}`] : []),
            ...(unexpected.length > 0 ? [`${address} lists undeclared broker ${list(unexpected)}`] : []),
        ];
    });
    rows.push(brokerProblems.length === 0
        ? row(CHECKS.brokers, "ok", `${list(wantedIds)} (${expected.brokers} declared), seen by every broker that answered`)
        : row(CHECKS.brokers, "fail", brokerProblems.join("; ")));

    const controllers = [...new Set(views.map((v) => v.controllerId))];
    if (expected.metadata === "kraft") {
        // In KRaft a broker's Metadata answer names a random live broker as "controller" (KIP-590): the quorum says it.
        rows.push(quorumRow(expected.controllers ?? 1, observed.quorum));
    } else if (controllers.length === 1 && controllers[0] >= 0 && wantedIds.includes(controllers[0])) {
        rows.push(row(CHECKS.controller, "ok", `broker ${controllers[0]}, the same for every broker that answered`));
    } else {
        rows.push(row(CHECKS.controller, "fail", views.map((v) => `${v.address} names ${v.controllerId < 0 ? "no controller" : `broker ${v.controllerId}`}`).join("; ")));
    }

    if (!Array.isArray(observed.topics)) {
        const status: Status = observed.topics.unreachable ? "unreachable" : "fail";
        const why = `topic metadata not read: ${observed.topics.error}`;
        return [...rows, ...kafkaCheckNames(expected.topics, expected.metadata).slice(rows.length).map((check) => row(check, status, why))];
    }
    const topics = observed.topics;
    const partitions = topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, ...p })));
    const underReplicated = partitions.filter((p) => p.leader >= 0 && p.isr.length < p.replicas.length);
    const offline = partitions.filter((p) => p.leader < 0);
    // A topic listed with an error hides its partitions: neither count can be called clean while one is unknown.
    const unlisted = topics.filter((t) => t.error !== undefined);
    const unlistedNote = unlisted.length === 0 ? "" : `; partitions not listed for ${list(unlisted.map((t) => `${t.name} (${t.error})`), 3)}`;
    rows.push(underReplicated.length === 0
        ? row(CHECKS.underReplicated, unlisted.length === 0 ? "ok" : "fail", `0 of ${partitions.length} partitions${unlistedNote}`)
        : row(CHECKS.underReplicated, "fail", `${underReplicated.length} of ${partitions.length}: ${list(underReplicated.map((p) => `${p.topic}/${p.partitionId} (ISR ${p.isr.join(",")} of ${p.replicas.join(",")})`), 5)}${unlistedNote}`));
    rows.push(offline.length === 0
        ? row(CHECKS.offline, unlisted.length === 0 ? "ok" : "fail", `0 of ${partitions.length} partitions${unlistedNote}`)
        : row(CHECKS.offline, "fail", `${offline.length} of ${partitions.length} without a leader: ${list(offline.map((p) => `${p.topic}/${p.partitionId}`), 5)}${unlistedNote}`));

    for (const declared of expected.topics) {
        rows.push(topicRow(declared, topics.find((t) => t.name === declared.name)));
    }

    const declaredNames = new Set(expected.topics.map((t) => t.name));
    const extra = topics.map((t) => t.name).filter((name) => !isInternal(name) && !declaredNames.has(name)).sort();
    rows.push(extra.length === 0
        ? row(CHECKS.undeclared, "ok", "none")
        : row(CHECKS.undeclared, "warn", `drift: ${extra.length} topic${extra.length === 1 ? "" : "s"} not declared by the stack (auto-created or made by hand): ${list(extra)}`));
    return rows;
}

/** The quorum row: a leader among the declared voters, exactly those voters, each caught up with the leader's log. */
export function quorumRow(controllers: number, quorum: KafkaObservation["quorum"]): CheckResult {
    if (quorum === undefined || "error" in quorum) {
        return row(CHECKS.quorum, quorum?.unreachable ? "unreachable" : "fail", `not described: ${quorum?.error ?? "not asked"}`);
    }
    const wanted = [...Array(controllers).keys()].map((i) => CONTROLLER_NODE_ID_BASE + i);
    const voters = quorum.voters.map((v) => v.replicaId).sort((a, b) => a - b);
    const leader = quorum.voters.find((v) => v.replicaId === quorum.leaderId);
    const problems: string[] = [];
    if (!leader) {
        problems.push(quorum.leaderId < 0 ? "no leader elected" : `leader ${quorum.leaderId} is not a voter`);
    }
    if (voters.join(",") !== wanted.join(",")) {
        problems.push(`voters ${list(voters)}, declared ${list(wanted)}`);
    }
    const now = leader?.lastCaughtUpTimestamp ?? -1;
    const lagging = quorum.voters.filter((v) => v.lastCaughtUpTimestamp < 0 || now - v.lastCaughtUpTimestamp > QUORUM_LAG_BOUND_MS)
        .map((v) => `${v.replicaId} (${v.lastCaughtUpTimestamp < 0 ? "never caught up" : `caught up ${Math.round((now - v.lastCaughtUpTimestamp) / 1000)} s before the leader`}, log end ${v.logEndOffset} of ${quorum.highWatermark})`);
    if (lagging.length > 0) {
        problems.push(`lagging voter ${lagging.join(", ")}`);
    }
    const observers = quorum.observers.map((o) => o.replicaId).sort((a, b) => a - b);
    const shape = `leader ${quorum.leaderId} (epoch ${quorum.leaderEpoch}), voters ${list(voters)}, observers ${observers.length === 0 ? "none" : list(observers)}`;
    return problems.length === 0
        ? row(CHECKS.quorum, "ok", `${shape}; every voter caught up`)
        : row(CHECKS.quorum, "fail", `${problems.join("; ")} (${shape})`);
}

/** Kafka's error codes a Metadata v1 answer can carry for a whole topic, and what each means for the operator. */
const TOPIC_ERRORS: Record<number, string> = {
    3: "UNKNOWN_TOPIC_OR_PARTITION: the broker does not know the topic (being deleted, or not yet in its metadata)",
    5: "LEADER_NOT_AVAILABLE: the topic has no partition leaders yet (being created, or an election under way)",
    17: "INVALID_TOPIC_EXCEPTION: the topic's name is not a valid Kafka topic name",
    29: "TOPIC_AUTHORIZATION_FAILED: verify's client may not describe the topic",
};

/** A topic-level error code as a topic row says it. */
export function describeTopicError(code: number): string {
    return `error ${code} ${TOPIC_ERRORS[code] ?? "(a Kafka error code Metadata answers do not usually carry for a topic)"}`;
}

/** LEADER_NOT_AVAILABLE at partition level: the partition is offline. */
const LEADER_NOT_AVAILABLE = 5;

/** The Metadata v1 topics as `evaluateKafka` reads them. Pure. */
export function observedTopics(listed: readonly MetadataTopic[]): ObservedTopic[] {
    return listed.map((t) => ({
        name: t.name,
        // Brokers answer v1 with leader -1 alongside LEADER_NOT_AVAILABLE; the code is what Kafka promises.
        partitions: t.partitions.map((p) => ({ partitionId: p.partitionId, leader: p.errorCode === LEADER_NOT_AVAILABLE ? -1 : p.leader, replicas: p.replicas, isr: p.isr })),
        ...(t.errorCode !== 0 ? { error: describeTopicError(t.errorCode) } : {}),
    }));
}

/**
 * What `ask` gets from the first of `reachable` that answers `request`, trying them in order within `timeoutMs` in
 * all. Rejects naming every address tried and why; with an UnreachableError when none answered at all.
 */
async function firstAnswer<T>(reachable: readonly string[], timeoutMs: number, request: string, ask: (address: string, leftMs: number) => Promise<T>): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    const failures: { address: string; error: unknown }[] = [];
    for (const address of reachable) {
        const left = deadline - Date.now();
        if (left <= 0) {
            break;
        }
        try {
            return await ask(address, left);
        } catch (error) {
            failures.push({ address, error });
        }
    }
    const tried = failures.map((f) => `${f.address} (${messageOf(f.error)})`).join("; ");
    const untried = reachable.slice(failures.length);
    const message = `no broker answered ${request} within ${timeoutMs} ms: ${tried || "none tried"}${untried.length > 0 ? `; not tried in time: ${untried.join(", ")}` : ""}`;
    throw failures.every((f) => isUnreachable(f.error)) ? new UnreachableError(message) : new Error(message);
}

/** Every topic, from the all-topics Metadata request. */
const readTopics = (reachable: readonly string[], timeoutMs: number): Promise<MetadataTopic[]> =>
    firstAnswer(reachable, timeoutMs, "the all-topics Metadata request", topicMetadata);

/** The declared topics' configs, from DescribeConfigs (a broker that does not know one of them yet is passed over). */
const readTopicConfigs = (reachable: readonly string[], topics: readonly string[], timeoutMs: number): Promise<Map<string, Record<string, TopicConfigEntry>>> =>
    firstAnswer(reachable, timeoutMs, "DescribeConfigs", (address, left) => describeTopicConfigs(address, topics, left));

/**
 * Reads what `evaluateKafka` needs from the brokers at `bootstrap`, each step within `timeoutMs`: the partitions
 * from the plain all-topics Metadata request (a leaderless partition is leader -1 there), the declared topics'
 * configs from a plain DescribeConfigs request (scripts/verify/kafka-configs.ts).
 */
export async function observeKafka(bootstrap: readonly string[], declaredTopics: readonly string[], timeoutMs: number, metadata: MetadataMode = "zookeeper"): Promise<KafkaObservation> {
    const views = await Promise.all(bootstrap.map((address) => brokerView(address, timeoutMs).catch((error) => ({
        address, error: messageOf(error), unreachable: isUnreachable(error),
    }))));
    const reachable = views.filter(answered).map((v) => v.address);
    if (reachable.length === 0) {
        return { views, topics: { error: "no broker answered", unreachable: true }, ...(metadata === "kraft" ? { quorum: { error: "no broker answered", unreachable: true } } : {}) };
    }
    const quorum = metadata !== "kraft" ? undefined : await describeQuorum(reachable[0], timeoutMs).catch((error) => ({ error: messageOf(error), unreachable: isUnreachable(error) }));
    try {
        const topics = observedTopics(await readTopics(reachable, timeoutMs));
        const present = topics.map((t) => t.name).filter((name) => declaredTopics.includes(name));
        const configs = present.length === 0 ? new Map() : await readTopicConfigs(reachable, present, timeoutMs);
        return {
            views,
            topics: topics.map((t) => (configs.has(t.name) ? { ...t, config: configs.get(t.name) } : t)),
            ...(quorum ? { quorum } : {}),
        };
    } catch (error) {
        return { views, topics: { error: messageOf(error), unreachable: isUnreachable(error) }, ...(quorum ? { quorum } : {}) };
    }
}
