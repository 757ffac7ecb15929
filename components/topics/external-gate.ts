/**
 * The gate in front of the topics: waits until every broker's EXTERNAL address (what the Kafka provider dials
 * from the machine running `pulumi up`) answers a Kafka Metadata request that lists every broker and a
 * controller. A Ready StatefulSet and existing Services do not mean that path works yet: kube-proxy programs
 * NodePorts asynchronously and kind's host port proxy accepts connections and then drops them, so the first
 * topics of a first `pulumi up` failed with "broken pipe" before this gate existed.
 *
 * Speaks Metadata v1 over a plain TCP socket (components/shared/kafka-metadata.ts), as `components/kafka/probe.sh`
 * does inside the pod, so the program needs no Kafka client library.
 */
import * as pulumi from "@pulumi/pulumi";
import { MetadataResponse, MetadataSilenceError, queryMetadata } from "../shared/kafka-metadata";
import { messageOnlyRunError } from "./run-error";

const CLIENT_ID = "bss-pulumi-gate";

/** Why an answer does not yet open the gate, or undefined when it does. */
export function missingFromAnswer(response: MetadataResponse, brokerIds: readonly number[]): string | undefined {
    const listed = new Set(response.brokers.map((b) => b.nodeId));
    const missing = brokerIds.filter((id) => !listed.has(id));
    if (missing.length > 0) {
        return `lists broker(s) ${[...listed].sort((a, b) => a - b).join(",") || "none"}, missing ${missing.join(",")}`;
    }
    if (response.controllerId < 0) {
        return "no controller elected";
    }
    return undefined;
}

export interface ExternalGateOptions {
    /** Every broker's EXTERNAL address (`host:port`), as the Kafka provider dials them. Required. */
    servers: readonly string[];
    /** Broker ids each address must list. Default: `0 .. servers.length - 1` (broker i is advertised at `servers[i]`). */
    brokerIds?: readonly number[];
    /** Bound of the whole wait. Default: 180 000 ms. */
    timeoutMs?: number;
    /** Pause between rounds. Default: 2 000 ms. */
    retryMs?: number;
    /** Bound of one request, connect included. Default: 5 000 ms. */
    requestTimeoutMs?: number;
}

export const DEFAULT_GATE_TIMEOUT_MS = 180_000;

const NOTHING_COMPLETED = "no request completed within the bound";

/**
 * Waits until, in one round, every address answers a Metadata request that lists every broker id and a
 * controller. Retries every `retryMs` until `timeoutMs`, then fails with a RunError (Pulumi prints its message
 * once, without a stack) naming the addresses tried and the last failure.
 */
export async function waitForExternalBrokers(options: ExternalGateOptions): Promise<void> {
    const servers = [...options.servers];
    if (servers.length === 0) {
        throw messageOnlyRunError("The Kafka external gate got no addresses to check");
    }
    const brokerIds = options.brokerIds ?? servers.map((_, i) => i);
    const timeoutMs = options.timeoutMs ?? DEFAULT_GATE_TIMEOUT_MS;
    const retryMs = options.retryMs ?? 2_000;
    const requestTimeoutMs = options.requestTimeoutMs ?? 5_000;
    const deadline = Date.now() + timeoutMs;
    let lastFailure = NOTHING_COMPLETED;
    let correlationId = 0;
    for (let round = 1; ; round++) {
        let open = true;
        for (const address of servers) {
            const left = deadline - Date.now();
            if (left <= 0) {
                open = false;
                break;
            }
            try {
                const response = await queryMetadata(address, ++correlationId, Math.min(requestTimeoutMs, left), CLIENT_ID);
                const missing = missingFromAnswer(response, brokerIds);
                if (missing !== undefined) {
                    lastFailure = `${address} ${missing}`;
                    open = false;
                    break;
                }
            } catch (error) {
                // A request the bound cut short ("no answer within 1 ms") says nothing of the broker: the failure
                // reported stays what the last whole attempt found.
                const cutShort = error instanceof MetadataSilenceError && error.timeoutMs < requestTimeoutMs && lastFailure !== NOTHING_COMPLETED;
                if (!cutShort) {
                    lastFailure = `${address}: ${(error as Error).message}`;
                }
                open = false;
                break;
            }
        }
        if (open) {
            return;
        }
        const left = deadline - Date.now();
        if (left <= 0) {
            throw messageOnlyRunError(
                `Kafka's EXTERNAL listeners did not all answer a Metadata request listing brokers ${brokerIds.join(",")} within ${timeoutMs / 1000} s ` +
                `(${round} round(s)); tried ${servers.join(", ")}; last failure: ${lastFailure}. ` +
                "The topics and their provider were not created: check the brokers and the host's path to them, then run `pulumi up` again",
            );
        }
        await new Promise((resolve) => setTimeout(resolve, Math.min(retryMs, left)));
    }
}

/** Waits on the EXTERNAL path before the topics' provider may connect; resolves once it works. */
export type ExternalGate = (servers: readonly string[]) => Promise<void>;

/**
 * The gate for this run: the bounded wait during `pulumi up`; nothing in a preview (the provider does not
 * connect while planning new topics, and the brokers may not exist yet) and nothing without an engine (the
 * mock engine of `npm run render` and the unit tests deploys nothing there is to wait for).
 */
export function externalGateForRun(run: { dryRun: boolean; engine: boolean }, options: Omit<ExternalGateOptions, "servers"> = {}): ExternalGate | undefined {
    if (run.dryRun || !run.engine) {
        return undefined;
    }
    return (servers) => waitForExternalBrokers({ ...options, servers });
}

/** `externalGateForRun` for the current Pulumi run. */
export function currentExternalGate(options: Omit<ExternalGateOptions, "servers"> = {}): ExternalGate | undefined {
    return externalGateForRun({ dryRun: pulumi.runtime.isDryRun(), engine: pulumi.runtime.getEngine() !== undefined }, options);
}
