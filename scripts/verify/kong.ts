/**
 * Kong checks through the proxy, as a client sees it: each route refuses a request without a credential (401)
 * and lets one with a credential past authentication (anything but 401), every answer carries the security
 * headers, an authenticated answer carries the rate-limit headers with the declared limit, and no path of the
 * proxy leads to the Admin API.
 */
import type { KongSettings } from "../../settings";
import { API_KEY_HEADER, OPERATOR_CONSUMER, routeTable, SECURITY_HEADERS } from "../../components/kong/declarative";
import { isUnreachable, messageOf } from "./bounded";
import { HttpAnswer, httpGet } from "./http";
import { CheckResult, Status } from "./report";

export interface KongExpectation {
    /** The stack's Kong settings (rate limit, tool allow-list). */
    kong: Pick<KongSettings, "rateLimitPerMinute" | "toolAllowedCidrs">;
    /** `bss:akhq.contextPath`: Kong routes AKHQ under it. */
    akhqContextPath: string;
}

export interface KongCredentials {
    /** A consumer's key-auth key, for `/api`. */
    apiKey?: string;
    /** The `bss-operator` basic-auth password, for the tool routes. */
    operatorPassword?: string;
}

/** Either an answer or why there was none. */
export type Probe = HttpAnswer | { error: string; unreachable: boolean };

export interface RouteObservation {
    path: string;
    access: "api" | "tool";
    anonymous: Probe;
    /** Absent when there was no credential to send. */
    authenticated?: Probe;
}

export interface KongObservation {
    /** The proxy's base URL, for the details. */
    proxy: string;
    routes: RouteObservation[];
    /** Admin API paths asked through the proxy, with and without credentials. */
    adminProbes: { path: string; credential: string; probe: Probe }[];
}

/**
 * Paths of the Admin API (`/` answers its welcome, `/config` the whole declarative config with every key) and
 * prefixes someone might route it under; none of them may answer like the Admin API through the proxy.
 */
export const ADMIN_PROBE_PATHS = ["/", "/config", "/routes", "/consumers", "/status", "/admin", "/admin/config", "/kong-admin"];

/** Headers the rate-limiting plugin adds (Kong's rate-limiting docs: "Headers sent to the client"). */
export const RATE_LIMIT_HEADERS = ["ratelimit-limit", "ratelimit-remaining", "ratelimit-reset", "x-ratelimit-limit-minute", "x-ratelimit-remaining-minute"];

const row = (check: string, status: Status, detail: string): CheckResult => ({ area: "kong", check, status, detail });

const ADMIN_CHECK = "admin API not reachable through the proxy";
const routeChecks = (path: string) => ({ auth: `route ${path} auth`, headers: `route ${path} security headers`, rateLimit: `route ${path} rate-limit headers` });

/** The name of every Kong row, in report order: three per route, then the Admin API. */
export function kongCheckNames(akhqContextPath: string): string[] {
    return [...routeTable(akhqContextPath).flatMap((r) => Object.values(routeChecks(r.path))), ADMIN_CHECK];
}

const answered = (probe: Probe | undefined): probe is HttpAnswer => probe !== undefined && !("error" in probe);

/** Whether a body is one of the Admin API's own: its welcome, the config dump, an entity list or its status. */
export function looksLikeAdminApi(answer: HttpAnswer): boolean {
    if (answer.status < 200 || answer.status >= 300) {
        return false;
    }
    let body: unknown;
    try {
        body = JSON.parse(answer.body);
    } catch {
        return false;
    }
    if (!body || typeof body !== "object") {
        return false;
    }
    const doc = body as Record<string, unknown>;
    return (typeof doc.tagline === "string" && /kong/i.test(doc.tagline))
        || "configuration" in doc
        || (typeof doc.config === "string" && /_format_version/.test(doc.config))
        || (Array.isArray(doc.data) && "next" in doc)
        || ("server" in doc && ("database" in doc || "memory" in doc));
}

function headerValue(answer: HttpAnswer, name: string): string | undefined {
    const value = answer.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(", ") : value;
}

function authRow(route: RouteObservation, credentialName: string): CheckResult {
    const check = routeChecks(route.path).auth;
    const parts: string[] = [];
    let status: Status = "ok";
    if (!answered(route.anonymous)) {
        return row(check, route.anonymous.unreachable ? "unreachable" : "fail", route.anonymous.error);
    }
    if (route.anonymous.status === 401) {
        parts.push("401 without a credential");
    } else {
        status = "fail";
        parts.push(`${route.anonymous.status} without a credential, expected 401`);
    }
    if (route.authenticated === undefined) {
        status = "fail";
        parts.push(`not tried with one: no ${credentialName}`);
    } else if (!answered(route.authenticated)) {
        status = route.authenticated.unreachable && status === "ok" ? "unreachable" : "fail";
        parts.push(`with a credential: ${route.authenticated.error}`);
    } else if (route.authenticated.status === 401) {
        status = "fail";
        parts.push(`401 with the ${credentialName} too: the credential is refused`);
    } else {
        parts.push(`${route.authenticated.status} with the ${credentialName}`);
    }
    return row(check, status, parts.join(", "));
}

function securityHeadersRow(route: RouteObservation): CheckResult {
    const check = routeChecks(route.path).headers;
    const answers = [["without a credential", route.anonymous], ["with a credential", route.authenticated]] as const;
    const problems: string[] = [];
    let seen = 0;
    for (const [label, probe] of answers) {
        if (!answered(probe)) {
            continue;
        }
        seen++;
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) {
            const actual = headerValue(probe, name);
            if (actual !== value) {
                problems.push(`${name} ${actual === undefined ? "missing" : `"${actual}"`} ${label} (${probe.status})`);
            }
        }
    }
    if (seen === 0) {
        return row(check, "fail", `no answer to check: ${answered(route.anonymous) ? "" : route.anonymous.error}`);
    }
    return problems.length === 0
        ? row(check, "ok", `${Object.keys(SECURITY_HEADERS).join(", ")} on ${seen === 2 ? "both answers" : "the answer"}`)
        : row(check, "fail", problems.join("; "));
}

function rateLimitRow(route: RouteObservation, expected: KongExpectation, credentialName: string): CheckResult {
    const check = routeChecks(route.path).rateLimit;
    // Kong adds them only to requests that reach the rate-limiting plugin, i.e. after authentication.
    if (route.authenticated === undefined) {
        return row(check, "fail", `not checked: no ${credentialName} (the headers come only on authenticated requests)`);
    }
    if (!answered(route.authenticated)) {
        return row(check, route.authenticated.unreachable ? "unreachable" : "fail", route.authenticated.error);
    }
    const answer = route.authenticated;
    if (answer.status === 403 && route.access === "tool" && expected.kong.toolAllowedCidrs) {
        return row(check, "skipped", "403 from ip-restriction before rate limiting: this machine is outside bss:kong.toolAllowedCidrs");
    }
    const missing = RATE_LIMIT_HEADERS.filter((h) => headerValue(answer, h) === undefined);
    const limit = headerValue(answer, "x-ratelimit-limit-minute");
    const problems = [
        ...(missing.length > 0 ? [`missing ${missing.join(", ")}`] : []),
        ...(limit !== undefined && limit !== String(expected.kong.rateLimitPerMinute) ? [`X-RateLimit-Limit-Minute ${limit}, declared ${expected.kong.rateLimitPerMinute}`] : []),
    ];
    return problems.length === 0
        ? row(check, "ok", `limit ${limit}/minute as declared, ${headerValue(answer, "x-ratelimit-remaining-minute")} remaining`)
        : row(check, "fail", `${problems.join("; ")} (answer ${answer.status})`);
}

function adminRow(observed: KongObservation): CheckResult {
    const check = ADMIN_CHECK;
    const leaks = observed.adminProbes.filter((p) => answered(p.probe) && looksLikeAdminApi(p.probe));
    if (leaks.length > 0) {
        return row(check, "fail", `the Admin API answers through the proxy: ${leaks.map((p) => `GET ${p.path} (${p.credential}) → ${(p.probe as HttpAnswer).status}`).join(", ")}`);
    }
    const answers = observed.adminProbes.filter((p) => answered(p.probe));
    if (answers.length === 0) {
        const first = observed.adminProbes[0]?.probe as { error: string; unreachable: boolean } | undefined;
        return row(check, first?.unreachable === false ? "fail" : "unreachable", first?.error ?? "nothing asked");
    }
    const statuses = [...new Set(answers.map((p) => (p.probe as HttpAnswer).status))].sort();
    return row(check, "ok", `${ADMIN_PROBE_PATHS.length} Admin API paths asked with and without credentials: none answers like the Admin API (statuses ${statuses.join(", ")})`);
}

/** The rows for one observation of the proxy. Pure. */
export function evaluateKong(expected: KongExpectation, observed: KongObservation): CheckResult[] {
    const rows: CheckResult[] = [];
    for (const route of observed.routes) {
        const credentialName = route.access === "api" ? "API key" : `${OPERATOR_CONSUMER} login`;
        if (!answered(route.anonymous) && route.anonymous.unreachable) {
            // The proxy did not answer at all: that is the finding, whatever a credential would have changed.
            const detail = route.anonymous.error;
            rows.push(...Object.values(routeChecks(route.path)).map((check) => row(check, "unreachable", detail)));
            continue;
        }
        rows.push(authRow(route, credentialName), securityHeadersRow(route), rateLimitRow(route, expected, credentialName));
    }
    rows.push(adminRow(observed));
    return rows;
}

const probe = (url: string, headers: Record<string, string>, timeoutMs: number): Promise<Probe> =>
    httpGet(url, headers, timeoutMs).catch((error) => ({ error: messageOf(error), unreachable: isUnreachable(error) }));

function credentialHeaders(access: "api" | "tool", credentials: KongCredentials): Record<string, string> | undefined {
    if (access === "api") {
        return credentials.apiKey === undefined ? undefined : { [API_KEY_HEADER]: credentials.apiKey };
    }
    return credentials.operatorPassword === undefined
        ? undefined
        : { authorization: `Basic ${Buffer.from(`${OPERATOR_CONSUMER}:${credentials.operatorPassword}`).toString("base64")}` };
}

/** Asks the proxy at `proxy` (a base URL) everything `evaluateKong` reads; every request within `timeoutMs`. */
export async function observeKong(proxy: string, expected: KongExpectation, credentials: KongCredentials, timeoutMs: number): Promise<KongObservation> {
    const base = proxy.replace(/\/+$/, "");
    const routes = await Promise.all(routeTable(expected.akhqContextPath).map(async (route): Promise<RouteObservation> => {
        const headers = credentialHeaders(route.access, credentials);
        const [anonymous, authenticated] = await Promise.all([
            probe(`${base}${route.path}`, {}, timeoutMs),
            headers === undefined ? Promise.resolve(undefined) : probe(`${base}${route.path}`, headers, timeoutMs),
        ]);
        return { path: route.path, access: route.access, anonymous, ...(authenticated === undefined ? {} : { authenticated }) };
    }));
    const credentialSets: [string, Record<string, string> | undefined][] = [
        ["no credential", {}],
        ["API key", credentialHeaders("api", credentials)],
        [`${OPERATOR_CONSUMER} login`, credentialHeaders("tool", credentials)],
    ];
    const adminProbes = await Promise.all(ADMIN_PROBE_PATHS.flatMap((path) => credentialSets
        .filter((set): set is [string, Record<string, string>] => set[1] !== undefined)
        .map(async ([credential, headers]) => ({ path, credential, probe: await probe(`${base}${path}`, headers, timeoutMs) }))));
    return { proxy: base, routes, adminProbes };
}
