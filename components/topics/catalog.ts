/**
 * The BSS topic catalog: the ten topics every stack gets unless its `bss:topics` overrides them.
 * Replication is the catalog's intent for a cluster of three or more brokers; smaller clusters get
 * `min(replicationFactor, brokers)` (see settings/topics.ts).
 */

const DAY_MS = 24 * 60 * 60 * 1000;

export interface CatalogTopic {
    /** Topic name as producers and consumers use it. */
    name: string;
    /** Partition count; raising it later is in place, lowering it would recreate the topic. */
    partitions: number;
    /** Replicas of each partition on a cluster of three or more brokers. */
    replicationFactor: number;
    /** `retention.ms`: how long records are kept. */
    retentionMs: number;
    /** What the topic carries. */
    description: string;
}

export const TOPIC_CATALOG: readonly CatalogTopic[] = Object.freeze([
    { name: "bss.events", partitions: 3, replicationFactor: 3, retentionMs: 7 * DAY_MS, description: "Main event stream of the BSS" },
    { name: "bss.customer.events", partitions: 3, replicationFactor: 3, retentionMs: 7 * DAY_MS, description: "Customer lifecycle events" },
    { name: "bss.order.events", partitions: 3, replicationFactor: 3, retentionMs: 7 * DAY_MS, description: "Order processing events" },
    { name: "bss.invoice.events", partitions: 3, replicationFactor: 3, retentionMs: 7 * DAY_MS, description: "Invoice generation events" },
    { name: "bss.payment.events", partitions: 3, replicationFactor: 3, retentionMs: 7 * DAY_MS, description: "Payment processing events" },
    { name: "bss.notification.events", partitions: 3, replicationFactor: 3, retentionMs: 7 * DAY_MS, description: "Customer notifications" },
    { name: "bss.analytics.events", partitions: 6, replicationFactor: 3, retentionMs: 30 * DAY_MS, description: "Analytics and reporting data" },
    { name: "bss.audit.events", partitions: 3, replicationFactor: 3, retentionMs: 365 * DAY_MS, description: "Audit trail" },
    { name: "bss.service.provisioning", partitions: 3, replicationFactor: 3, retentionMs: 7 * DAY_MS, description: "Service activation events" },
    { name: "bss.billing.events", partitions: 3, replicationFactor: 3, retentionMs: 30 * DAY_MS, description: "Billing cycle events" },
].map((topic) => Object.freeze(topic)));

/** Topics that `pulumi destroy` or a removed override must never delete. */
export const PROTECTED_TOPICS: ReadonlySet<string> = new Set(["bss.audit.events"]);
