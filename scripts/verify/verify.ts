/**
 * Runs the checks of each area against a deployed stack: resolves where each part is reached (verify plan),
 * opens kubectl port-forwards where the plan asks for one, observes, evaluates, closes everything again.
 */
import type { Settings } from "../../settings";
import { managementPath } from "../../components/akhq/config";
import { isUnreachable, messageOf } from "./bounded";
import { evaluateKafka, observeKafka } from "./kafka";
import { evaluateRedis, observeRedis, Placement, REDIS_CHECKS } from "./redis";
import { evaluateKong, kongCheckNames, observeKong } from "./kong";
import { checkAkhq } from "./akhq";
import { KubectlTarget, loadBalancerAddress, podPlacement, portForward } from "./kubectl";
import { Credentials } from "./outputs";
import { Area, CheckResult } from "./report";
import { Endpoint, VerifyPlan } from "./targets";

export type CheckedArea = Exclude<Area, "stack">;
export const AREAS: readonly CheckedArea[] = ["kafka", "redis", "kong", "akhq"];

export interface VerifyOptions {
    settings: Settings;
    plan: VerifyPlan;
    credentials: Credentials;
    /** Areas to check, in report order. */
    areas: readonly CheckedArea[];
    /** Bound of every single network step (connect, request, kubectl call). */
    timeoutMs: number;
    kubectl: KubectlTarget;
}

interface Opened {
    host: string;
    port: number;
    /** Base URL for HTTP endpoints. */
    url: string;
    close(): void;
}

/** Resolves an endpoint to something dialable; the row says where the area was asked, or why nowhere. */
async function open(area: CheckedArea, endpoint: Endpoint, kubectl: KubectlTarget, timeoutMs: number): Promise<{ opened?: Opened; row: CheckResult }> {
    const row = (status: CheckResult["status"], detail: string): CheckResult => ({ area, check: "address", status, detail });
    const direct = (host: string, port: number): Opened => ({ host, port, url: `http://${host.includes(":") ? `[${host}]` : host}:${port}`, close: () => undefined });
    try {
        switch (endpoint.kind) {
            case "address":
                return { opened: direct(endpoint.host, endpoint.port), row: row("ok", `${endpoint.host}:${endpoint.port} (${endpoint.source})`) };
            case "url": {
                const url = new URL(endpoint.url);
                const port = Number(url.port || (url.protocol === "https:" ? 443 : 80));
                return { opened: { host: url.hostname, port, url: endpoint.url.replace(/\/+$/, ""), close: () => undefined }, row: row("ok", `${url.origin} (${endpoint.source})`) };
            }
            case "load-balancer": {
                const host = await loadBalancerAddress(kubectl, endpoint.service, timeoutMs);
                if (host === undefined) {
                    return { row: row("unreachable", `Service ${endpoint.service} has no load-balancer address yet (${endpoint.source}); pass --kong-proxy`) };
                }
                return { opened: direct(host, endpoint.port), row: row("ok", `${host}:${endpoint.port} (load balancer of Service ${endpoint.service})`) };
            }
            case "port-forward": {
                const forward = await portForward(kubectl, endpoint.resource, endpoint.remotePort, timeoutMs);
                return {
                    opened: { ...direct(forward.host, forward.port), close: forward.close },
                    row: row("ok", `kubectl port-forward ${endpoint.resource} ${endpoint.remotePort} (${endpoint.source})`),
                };
            }
        }
    } catch (error) {
        const flag = { kafka: "--kafka-bootstrap", redis: "--redis-address", kong: "--kong-proxy", akhq: "--akhq-url" }[area];
        return { row: row(isUnreachable(error) || /not found/.test(messageOf(error)) ? "unreachable" : "fail", `${messageOf(error)} (${endpoint.source}; or pass ${flag})`) };
    }
}

/** Every row of one area when it could not even be reached. */
function unreached(area: CheckedArea, checks: readonly string[], addressRow: CheckResult): CheckResult[] {
    return checks.map((check) => ({ area, check, status: "unreachable" as const, detail: `not asked: ${addressRow.detail}` }));
}

async function placement(kubectl: KubectlTarget, timeoutMs: number): Promise<Placement> {
    try {
        return await podPlacement(kubectl, timeoutMs);
    } catch (error) {
        return { unknown: `kubectl get pods failed (${messageOf(error)})` };
    }
}

async function kafkaArea(options: VerifyOptions): Promise<CheckResult[]> {
    const { settings, plan, timeoutMs } = options;
    const address: CheckResult = { area: "kafka", check: "address", status: "ok", detail: `${plan.kafka.bootstrap.join(", ")} (${plan.kafka.source})` };
    const observed = await observeKafka(plan.kafka.bootstrap, settings.topics.map((t) => t.name), timeoutMs, settings.kafka.metadata);
    return [address, ...evaluateKafka({
        brokers: settings.kafka.brokers, topics: settings.topics, metadata: settings.kafka.metadata, controllers: settings.kafka.controllers?.replicas,
    }, observed)];
}

async function redisArea(options: VerifyOptions): Promise<CheckResult[]> {
    const { settings, plan, timeoutMs, kubectl, credentials } = options;
    const expected = { masters: settings.redis.masters, replicasPerMaster: settings.redis.replicasPerMaster };
    const checks = Object.values(REDIS_CHECKS);
    if (credentials.redisPassword === undefined) {
        return [{ area: "redis", check: "address", status: "fail", detail: "no Redis password: neither the redisPassword stack output nor --redis-password" },
            ...checks.map((check) => ({ area: "redis" as const, check, status: "fail" as const, detail: "not asked: no Redis password" }))];
    }
    const { opened, row } = await open("redis", plan.redis, kubectl, timeoutMs);
    if (!opened) {
        return [row, ...unreached("redis", checks, row)];
    }
    try {
        const where = expected.replicasPerMaster > 0 ? await placement(kubectl, timeoutMs) : new Map();
        return [row, ...evaluateRedis(expected, await observeRedis(opened.host, opened.port, credentials.redisPassword, timeoutMs, where))];
    } finally {
        opened.close();
    }
}

async function kongArea(options: VerifyOptions): Promise<CheckResult[]> {
    const { settings, plan, timeoutMs, kubectl, credentials } = options;
    const expected = { kong: settings.kong, akhqContextPath: settings.akhq.contextPath };
    const { opened, row } = await open("kong", plan.kong, kubectl, timeoutMs);
    if (!opened) {
        return [row, ...unreached("kong", kongCheckNames(settings.akhq.contextPath), row)];
    }
    try {
        const observed = await observeKong(opened.url, expected, { apiKey: credentials.kongApiKey, operatorPassword: credentials.kongOperatorPassword }, timeoutMs);
        return [row, ...evaluateKong(expected, observed)];
    } finally {
        opened.close();
    }
}

async function akhqArea(options: VerifyOptions): Promise<CheckResult[]> {
    const { settings, plan, timeoutMs, kubectl } = options;
    const { opened, row } = await open("akhq", plan.akhq, kubectl, timeoutMs);
    if (!opened) {
        return [row, ...unreached("akhq", ["health"], row)];
    }
    try {
        return [row, await checkAkhq(opened.url, managementPath(settings.akhq.contextPath, "health"), timeoutMs)];
    } finally {
        opened.close();
    }
}

const RUNNERS: Record<CheckedArea, (options: VerifyOptions) => Promise<CheckResult[]>> = {
    kafka: kafkaArea,
    redis: redisArea,
    kong: kongArea,
    akhq: akhqArea,
};

/** All areas at once (each bounded on its own); rows come back in area order. */
export async function runChecks(options: VerifyOptions): Promise<CheckResult[]> {
    const results = await Promise.all(options.areas.map((area) => RUNNERS[area](options).catch((error): CheckResult[] => [
        { area, check: "address", status: "fail", detail: `verify itself failed: ${messageOf(error)}` },
    ])));
    return results.flat();
}
