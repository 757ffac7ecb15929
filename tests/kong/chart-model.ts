/**
 * What the `kong` chart (3.4.x, `templates/_helpers.tpl`) makes of the values it receives, for the parts
 * the tests check: the listen strings Kong is started with and the Services it gets. The chart itself is in
 * no registry reachable here, so these follow its templates line for line:
 *
 * - `kong.listen`: for each enabled block (`http`, then `tls`), one listen per address of the service's
 *   `addresses` (default `0.0.0.0` and `[::]`), `<address>:<containerPort>` followed by the block's
 *   `parameters` (deduplicated), `tls` always ending in `ssl`; joined with ", ", or `off` when empty.
 * - `kong.env`: `KONG_ADMIN_LISTEN` is `kong.listen` of `admin`, except that an admin without a Service
 *   (`enabled: false`) and without `addresses` listens on `127.0.0.1` and `[::1]`.
 * - `service-kong-<name>.yaml`: a Service only for a service with `enabled: true`, of its `type`, with
 *   `externalTrafficPolicy` when set.
 */
type Block = { enabled?: boolean; containerPort?: number; parameters?: string[] };
type KongService = { enabled?: boolean; type?: string; addresses?: string[]; http?: Block; tls?: Block; externalTrafficPolicy?: string };

/**
 * The chart's own defaults for the fields our base values leave out (chart `values.yaml`): the TLS listens
 * carry `http2`.
 */
const CHART_DEFAULTS: Record<string, KongService> = {
    admin: { http: { parameters: [] }, tls: { parameters: ["http2"] } },
    proxy: { http: { parameters: [] }, tls: { parameters: ["http2"] } },
    status: { http: { parameters: [] }, tls: { parameters: [] } },
};

function withDefaults(name: string, service: KongService): KongService {
    const defaults = CHART_DEFAULTS[name] ?? {};
    return {
        ...service,
        http: service.http && { ...defaults.http, ...service.http },
        tls: service.tls && { ...defaults.tls, ...service.tls },
    };
}

export function chartListen(service: KongService): string {
    const addresses = service.addresses ?? ["0.0.0.0", "[::]"];
    const listens: string[] = [];
    const add = (block: Block | undefined, extra: string[]) => {
        if (block?.enabled) {
            const parameters = [...new Set([...(block.parameters ?? []), ...extra])];
            for (const address of addresses) {
                listens.push([`${address}:${block.containerPort}`, ...parameters].join(" "));
            }
        }
    };
    add(service.http, []);
    add(service.tls, ["ssl"]);
    return listens.length > 0 ? listens.join(", ") : "off";
}

/** The listen environment of the Kong container, as the chart derives it from `values`. */
export function chartListenEnv(values: Record<string, any>): Record<string, string> {
    const admin = withDefaults("admin", values.admin);
    const adminListen = !("addresses" in admin) && !admin.enabled ? { ...admin, addresses: ["127.0.0.1", "[::1]"] } : admin;
    return {
        KONG_ADMIN_LISTEN: chartListen(adminListen),
        KONG_PROXY_LISTEN: chartListen(withDefaults("proxy", values.proxy)),
        KONG_STATUS_LISTEN: chartListen(withDefaults("status", values.status)),
    };
}

export interface ChartService {
    name: string;
    type: string;
    externalTrafficPolicy?: string;
}

/** The Services the chart renders for the Admin API and the proxy. */
export function chartServices(values: Record<string, any>): ChartService[] {
    return ["admin", "proxy"]
        .filter((name) => values[name]?.enabled === true)
        .map((name) => ({
            name: `kong-${name}`,
            type: values[name].type,
            ...(values[name].externalTrafficPolicy ? { externalTrafficPolicy: values[name].externalTrafficPolicy } : {}),
        }));
}
